"""Reading YAML files named by users: a syntax error becomes one line naming the file, line and column."""

from pathlib import Path

import yaml

from models.config import ConfigError


def yaml_error_text(path, err: yaml.YAMLError) -> str:
    """`FILE, line L, column C: problem` from a PyYAML error (without its multi-line excerpt)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    return f"{path}{where}: {problem}" + (f" ({context})" if context else "")


def read_yaml(path, what: str = "config"):
    """The parsed content of a YAML file; `ConfigError` naming the file for unreadable or invalid YAML."""
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not a text (YAML) file") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{what} {yaml_error_text(path, err)} (invalid YAML)") from None
