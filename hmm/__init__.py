"""Hidden-Markov processes: definitions, sampling, mixed-state presentations, information quantities."""

from hmm import catalog, catalog_generalized  # noqa: F401  (registers the named processes)
from hmm.display import display_name
from hmm.errors import ProcessError
from hmm.files import load_process
from hmm.icl_bayes import (
    bigram_posterior_mean,
    bigram_predictive,
    dirichlet_myopic_entropy,
    icl_curves,
    next_token_log_loss,
    pool_predictive,
    position_curve,
    unigram_predictive,
)
from hmm.information import (
    block_entropy,
    entropy_rate,
    myopic_entropy,
    optimal_loss,
    statistical_complexity,
)
from hmm.markov import markov_chain, markov_pool, markov_pool_matrices, pool_matrices
from hmm.markov_sampling import DirichletMarkov, draw_from_pool, pool_chain_cdf, sample_markov_chains, sample_pool
from hmm.mixture import component_posterior, mixture, mixture_weights
from hmm.msp import MixedStatePresentation, mixed_state_presentation
from hmm.process import Process, from_matrices
from hmm.registry import get_process, list_processes
from hmm.sampling import (
    beliefs,
    filter_sequences,
    predictive_distribution,
    sample,
    sequence_log_prob,
)
from hmm.spec import process_from_spec
from hmm.states import DistinctStates, unique_beliefs
