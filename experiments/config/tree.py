"""Generic validation of nested frozen dataclasses from plain dicts; errors name the field path."""

import dataclasses
import types
import typing

from models.config import ConfigError


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _coerce(value, annotation, path: str):
    """Convert a YAML/CLI value to the annotated type, or raise naming the path and the type."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, path)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}={value!r}: none of {args} fits")
    if annotation is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if _is_number(value):
            return float(value)
    elif annotation is int:
        if _is_number(value) and float(value).is_integer():
            return int(value)
    elif annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif annotation is tuple or origin is tuple:
        if isinstance(value, (list, tuple)):
            return tuple(value)
    elif annotation is dict or origin is dict:
        if isinstance(value, dict):
            return dict(value)
    elif dataclasses.is_dataclass(annotation):
        return build(annotation, value, path)
    else:
        return value
    name = getattr(annotation, "__name__", str(annotation))
    raise ConfigError(f"{path}={value!r} has the wrong type: expected {name}")


def build(cls, values, path: str):
    """Construct dataclass `cls` from a dict: unknown keys, wrong types and invalid values name `path`."""
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must be a mapping of fields, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"{path} has no field {unknown[0]!r}; allowed: {', '.join(names)}")
    kwargs = {k: _coerce(v, hints[k], f"{path}.{k}") for k, v in values.items()}
    try:
        return cls(**kwargs)
    except ConfigError as err:  # the dataclass names itself; say where it sits in the tree
        raise ConfigError(str(err).replace(f"{cls.__name__}.", f"{path}.")) from None


def to_plain(obj):
    """Dataclasses, tuples and dicts to plain YAML/JSON types."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def set_path(tree: dict, dotted: str, value) -> None:
    """`set_path(d, "train.learning_rate", 1e-3)`: create intermediate mappings as needed."""
    *parents, leaf = dotted.split(".")
    node = tree
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted}: {key} is not a section")
    node[leaf] = value


def merge(base: dict, update: dict) -> dict:
    """Recursive dict merge; `update` wins; mappings merge, everything else is replaced."""
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
