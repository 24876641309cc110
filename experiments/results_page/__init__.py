"""A dated results page (Markdown) from run directories' files.

`python -m experiments.results_page RUN_DIR [RUN_DIR ...] --out docs/results/DATE-NAME.md` reads run directories
of one kind and writes the header (date, machine, load, versions, the command that made the runs) and the kind's
tables: a toy `belieflab run` (config.yaml, metrics.jsonl, analysis.json: loss against the optimum, per-site R²
with its controls, the referee's ladder, mean ± sd over runs), `belieflab lens-llm` (lenses.json), `belieflab
probe-llm` (analysis.json beside a config.yaml with a `probe_llm` section) or `belieflab function-vectors`
(function_vectors.json), and copies the headline figure under `--images` (default: docs/images beside the page's
folder).
"""

from experiments.results_page.page import load_run, main, render, write_page

__all__ = ["load_run", "main", "render", "write_page"]
