"""Belief-state regression on a model's residual stream, with controls, and belief-geometry figures."""

from analysis.atomic import write_json
from analysis.figures.geometry import plot_ground_truth, plot_site_geometry, prefix_view
from analysis.figures.simplex import simplex_xy
from analysis.regression.activations import collect_activations, resolve_sites, stream_sites
from analysis.regression.analyze import AnalysisResult, analyze, draw_figures, site_groups, untrained_copy
from analysis.regression.emergence import TrainingCurve, analyze_training, checkpoints_from_dir
from analysis.regression.fit import AffineFit, fit_affine
from analysis.regression.measure import GroupResult, Settings, TargetResult, measure, regression_targets
from analysis.regression.metrics import regression_metrics, weighted_r2
from analysis.regression.nulls import NullDistribution
from analysis.regression.prefixes import PrefixSet, input_layout, prefix_set, sampled_prefixes, tree_prefixes

__all__ = [
    "AffineFit",
    "AnalysisResult",
    "GroupResult",
    "NullDistribution",
    "PrefixSet",
    "Settings",
    "TargetResult",
    "TrainingCurve",
    "analyze",
    "analyze_training",
    "checkpoints_from_dir",
    "collect_activations",
    "draw_figures",
    "fit_affine",
    "input_layout",
    "measure",
    "plot_ground_truth",
    "plot_site_geometry",
    "prefix_set",
    "prefix_view",
    "regression_metrics",
    "regression_targets",
    "resolve_sites",
    "sampled_prefixes",
    "simplex_xy",
    "site_groups",
    "stream_sites",
    "tree_prefixes",
    "untrained_copy",
    "weighted_r2",
    "write_json",
]
