"""Causal interventions with ground truth: activation patching and belief steering, scored against the Bayes
predictions of the beliefs involved. Models are seen only through `model(tokens, capture, replace)`,
`model.config.n_layers` and the TransformerLens site names, so a toy model and a pretrained one share the code."""

from analysis.interventions.decoders import SiteDecoder, fit_decoders
from analysis.interventions.forward import check_sites, default_sites, forward, residual_stream
from analysis.interventions.pairs import Pairs, draw_pairs
from analysis.interventions.patching import MODES, carry_forward, fraction_closed, patched_log_probs, patching
from analysis.interventions.run import interventions
from analysis.interventions.steering import (
    KINDS,
    belief_step,
    encoder_step,
    next_token_step,
    steering,
    steps_toward,
)
from analysis.interventions.truth import bayes_prediction, check_belief, continue_beliefs, kl

__all__ = [
    "KINDS",
    "MODES",
    "Pairs",
    "SiteDecoder",
    "bayes_prediction",
    "belief_step",
    "carry_forward",
    "check_belief",
    "check_sites",
    "continue_beliefs",
    "default_sites",
    "draw_pairs",
    "encoder_step",
    "fit_decoders",
    "forward",
    "fraction_closed",
    "interventions",
    "kl",
    "next_token_step",
    "patched_log_probs",
    "patching",
    "residual_stream",
    "steering",
    "steps_toward",
]
