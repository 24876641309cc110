"""The toy runs of `belieflab run` (config.yaml, metrics.jsonl, analysis.json) and the lens runs of
`belieflab lens-llm` (config.yaml, lenses.json): the run directory read once, and the command that reruns it."""

import datetime
import json
from functools import cached_property
from pathlib import Path

import yaml

from analysis.atomic import read_jsonl
from experiments.config import ProcessConfig, from_dict, load_config, resolve_process
from experiments.config.shipped import shipped_configs
from experiments.llm.lens import LensLLMSettings
from experiments.results_page.common import get, modified_date
from hmm import display_name
from hmm.errors import MissingFileError


class Run:
    """One run directory's files, read once."""

    def __init__(self, path):
        self.path = Path(path)
        config_path = self.path / "config.yaml"
        if not config_path.is_file():
            raise MissingFileError(f"{self.path} is not a run directory: it has no config.yaml")
        self.config = yaml.safe_load(config_path.read_text()) or {}
        self.metrics = read_jsonl(self.path / "metrics.jsonl")
        self.analysis = self._json("analysis.json")
        self.lenses = self._json("lenses.json")
        if self.analysis is None and self.lenses is None:
            raise MissingFileError(
                f"{self.path} has neither analysis.json nor lenses.json: run `belieflab analyze {self.path}` first"
            )

    def _json(self, name: str):
        path = self.path / name
        return json.loads(path.read_text()) if path.is_file() else None

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name)

    @property
    def recorded(self) -> datetime.date:
        """The UTC date the run's results were written."""
        return modified_date(self.path / ("analysis.json" if self.analysis is not None else "lenses.json"))

    @property
    def environment(self) -> dict:
        return self.section("environment") or {}

    @cached_property
    def command(self) -> str:
        return command_line(self)

    @property
    def subject(self) -> str:
        return display_name(resolve_process_from(self)) if self.config.get("process") else self.name

    def section(self, *keys):
        """`analysis.json`'s nested value at `keys`, or None where any level is missing (the ladder's section is
        also read under its former name `baselines`)."""
        if keys and keys[0] == "ladder" and "ladder" not in (self.analysis or {}):
            keys = ("baselines", *keys[1:])
        return get(self.analysis, *keys)


def _leaves(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out.update(_leaves(value, f"{path}.") if isinstance(value, dict) and value else {path: value})
    return out


def _override_text(path: str, value) -> str:
    text = json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else value
    if isinstance(value, bool):
        text = str(value).lower()
    elif value is None:
        text = "null"
    return f"{path}={text}"


def command_line(run: Run) -> str:
    """`belieflab run NAME key=value ...`: the shipped config the run is named after plus the fields it changed;
    the saved config.yaml itself when the name is not a shipped config; `belieflab lens-llm ...` for a lens-llm
    run (its options that differ from the defaults)."""
    if "lens_llm" in run.config:
        defaults = LensLLMSettings().__dict__
        flags = [
            f"--{k.replace('_', '-')} {v}"
            for k, v in run.config["lens_llm"].items()
            if k in defaults and v != defaults[k]
        ]
        return " ".join(["belieflab lens-llm", *flags, f"--output-dir {run.path}"])
    if run.name not in shipped_configs():
        return f"belieflab run {run.path / 'config.yaml'}"
    shipped = _leaves(load_config(run.name).to_dict())
    saved = _leaves(from_dict(run.config).to_dict())  # validated, sections under their current names
    words = [f"belieflab run {run.name}"]
    for path, value in saved.items():
        if path == "output_dir":
            continue
        if path not in shipped or shipped[path] != value:
            words.append(_override_text(path, value))
    if saved.get("output_dir", "runs") != "runs":
        words.append(f"--output-dir {saved['output_dir']}")
    return " ".join(words)


def resolve_process_from(run: Run):
    """The run's process from its saved config (a mixture with its components and weights)."""
    process = run.config["process"]
    return resolve_process(
        ProcessConfig(
            name=process["name"],
            params=process.get("params") or {},
            components=tuple(process.get("components") or ()),
            weights=tuple(process.get("weights") or ()),
        )
    )
