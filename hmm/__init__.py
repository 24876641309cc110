"""Hidden-Markov processes: definitions, sampling, mixed-state presentations, information quantities."""

from hmm import catalog, catalog_generalized  # noqa: F401  (registers the named processes)
from hmm.display import display_name
from hmm.errors import ProcessError
from hmm.process import Process, from_matrices
from hmm.registry import get_process, list_processes
from hmm.files import load_process
from hmm.information import (
    block_entropy,
    entropy_rate,
    myopic_entropy,
    optimal_loss,
    statistical_complexity,
)
from hmm.msp import MixedStatePresentation, mixed_state_presentation
from hmm.sampling import (
    beliefs,
    filter_sequences,
    predictive_distribution,
    sample,
    sequence_log_prob,
)
from hmm.states import DistinctStates, unique_beliefs
