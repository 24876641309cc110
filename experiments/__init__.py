"""Experiment configs, runner and the belieflab command line."""
