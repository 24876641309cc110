"""Which kind of run a directory holds, and the whole page: the shared header, then the kind's sections."""

import argparse
import json
import sys
from pathlib import Path

import yaml

from analysis.atomic import atomic_write_text
from experiments.results_page.common import header
from experiments.results_page.function_vectors import FunctionVectorsRun, function_vector_sections
from experiments.results_page.probe_llm import ProbeRun, probe_sections
from experiments.results_page.toy import Run
from experiments.results_page.toy_page import toy_sections
from hmm.errors import LabError, MissingFileError

SECTIONS = {Run: toy_sections, ProbeRun: probe_sections, FunctionVectorsRun: function_vector_sections}
KINDS = "belieflab run, lens-llm or probe-llm (config.yaml) or function-vectors (function_vectors.json)"


def load_run(path):
    """The run directory at `path` read by the class of its kind."""
    path = Path(path)
    if (path / "function_vectors.json").is_file():
        return FunctionVectorsRun(path)
    config = path / "config.yaml"
    if not config.is_file():
        raise MissingFileError(f"{path} is not a run directory: it has no config.yaml and no function_vectors.json")
    if "probe_llm" in (yaml.safe_load(config.read_text()) or {}):
        return ProbeRun(path)
    return Run(path)


def render(run_dirs, out, images=None, argv=None, note: str = "") -> str:
    """The page's Markdown for `run_dirs` (all of one kind; `note`: a paragraph under the header); copies the
    headline figure into `images` (default: docs/images beside the page's folder)."""
    out = Path(out)
    runs = [load_run(d) for d in run_dirs]
    kinds = {type(r) for r in runs}
    if len(kinds) > 1:
        names = ", ".join(f"{r.path} ({type(r).__name__})" for r in runs)
        raise LabError(f"RUN_DIR: one kind of run per page ({KINDS}); given {names}")
    images = Path(images) if images else out.parent.parent / "images"
    parts = header(runs, argv or [*map(str, run_dirs), "--out", str(out)]) + ([note, ""] if note else [])
    parts += SECTIONS[type(runs[0])](runs, out, images)
    return "\n".join(parts).rstrip() + "\n"


def write_page(run_dirs, out, images=None, argv=None, note: str = "") -> Path:
    """Render and write the page atomically; returns its path."""
    text = render(run_dirs, out, images, argv, note)
    atomic_write_text(out, text)
    return Path(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.results_page",
        description="A dated results page (Markdown) generated from run directories' files.",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help=f"run directories of one kind: {KINDS}")
    parser.add_argument("--out", required=True, help="the page to write, e.g. docs/results/2026-12-01-mess3.md")
    parser.add_argument("--images", help="folder for the headline figure (default: docs/images beside --out's folder)")
    parser.add_argument("--note", default="", help="a paragraph printed under the header (what the runs are)")
    args = parser.parse_args(argv)
    try:
        path = write_page(args.run_dirs, args.out, args.images, argv if argv is not None else sys.argv[1:], args.note)
    except (LabError, FileNotFoundError, json.JSONDecodeError, yaml.YAMLError) as err:
        print(f"results_page: error: {err}", file=sys.stderr)
        return 2
    except KeyError as err:
        print(f"results_page: error: a run's files lack the field {err} this kind of run writes", file=sys.stderr)
        return 2
    print(path)
    return 0
