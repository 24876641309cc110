"""docs/reference is what `python -m experiments.reference_docs` writes from the current code."""

from pathlib import Path

import pytest

from experiments.config import AnalysisConfig
from experiments.reference_docs import ARGPARSE_NOTE, allowed, main, pages, python_minor
from models.config import TrainConfig

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "reference"


def test_committed_reference_is_current(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    names = list(pages())
    if f"{ARGPARSE_NOTE} {python_minor()}." not in (COMMITTED / "cli.md").read_text():
        names.remove("cli.md")  # generated under another Python, whose argparse lays help out differently
    for name in names:
        fresh, committed = (tmp_path / name).read_text(), (COMMITTED / name)
        assert committed.is_file() and committed.read_text() == fresh, (
            f"docs/reference/{name} is out of date: run python -m experiments.reference_docs"
        )


@pytest.mark.parametrize(
    "cls, field, annotation, expected",
    [
        (TrainConfig, "num_steps", int, "must be an integer >= 1"),
        (TrainConfig, "optimizer", str, "must be one of ['adam', 'adamw', 'sgd']"),
        (AnalysisConfig, "rcond", float, "must be in (0, 1)"),
        (TrainConfig, "nesterov", bool, "true or false"),
    ],
)
def test_allowed_quotes_the_validation(cls, field, annotation, expected):
    """By hand from the validation code: each field's rule, and only its own (not another field's)."""
    assert allowed(cls, field, annotation) == expected
