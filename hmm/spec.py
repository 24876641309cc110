"""Processes described by plain data (a YAML/JSON mapping), with errors that name the field path.

Forms (parameters either beside `name` or under `params`):
  {name: mess3, x: 0.05, alpha: 0.85}                 any registered process (`hmm.list_processes()`)
  {name: mixture, components: [spec, ...], weights: [...]}   weights default to uniform
  {name: markov_chain, matrix: [[...], ...], first: stationary | uniform}
  {name: markov_pool, vocab_size: 3, alpha: 1.0, num_chains: 4, seed: 0}   (registered)
  {name: dirichlet_markov, vocab_size: 3, alpha: 1.0}  gives a DirichletMarkov (no finite states)
"""

from hmm.errors import ProcessError
from hmm.markov import FIRST_TOKEN, check_transition_matrix, markov_chain
from hmm.markov_sampling import DIRICHLET_PARAMS, DirichletMarkov
from hmm.mixture import check_weights, mixture
from hmm.process import Process
from hmm.registry import Param, build_checked, param_specs

STRUCTURED = {
    "mixture": ("components", "weights"),
    "markov_chain": ("matrix", "first"),
    "dirichlet_markov": tuple(DIRICHLET_PARAMS),
}


def _fields(spec, path: str) -> tuple[str, dict]:
    """The spec's name and its parameters, merged from the top level and `params`."""
    if not isinstance(spec, dict):
        raise ProcessError(f"{path} must be a mapping with a 'name' (e.g. {{name: mess3}}), got {spec!r}")
    if "name" not in spec:
        raise ProcessError(f"{path}.name is missing; give a registered process, or one of {sorted(STRUCTURED)}")
    fields = {k: v for k, v in spec.items() if k not in ("name", "params")}
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise ProcessError(f"{path}.params must be a mapping of parameter names to values, got {params!r}")
    twice = sorted(set(fields) & set(params))
    if twice:
        raise ProcessError(f"{path}.{twice[0]} is given twice (beside name and under params); give it once")
    return spec["name"], {**fields, **params}


def _check_known(name: str, fields: dict, valid, path: str) -> None:
    unknown = sorted(set(fields) - set(valid))
    if unknown:
        raise ProcessError(f"{path}.{unknown[0]}: unknown field of {name}; valid: {', '.join(valid) or 'none'}")


def _checked_params(name: str, fields: dict, specs: dict[str, Param], path: str) -> dict:
    _check_known(name, fields, specs, path)
    values = {}
    for key, spec in specs.items():
        try:
            values[key] = spec.check(name, key, fields.get(key, spec.default))
        except ProcessError as err:
            raise ProcessError(f"{path}.{key}: {err}") from None
    return values


def _mixture(fields: dict, path: str) -> Process:
    components = fields.get("components")
    if not isinstance(components, list) or not components:
        raise ProcessError(f"{path}.components must be a non-empty list of process specs, got {components!r}")
    built = [process_from_spec(c, f"{path}.components[{i}]") for i, c in enumerate(components)]
    for i, c in enumerate(built):
        if not isinstance(c, Process):
            raise ProcessError(
                f"{path}.components[{i}]: {c.name} has no finite states and cannot be a mixture "
                "component; use markov_pool for a finite pool of chains"
            )
    weights = fields.get("weights")
    if weights is not None:
        check_weights(weights, len(built), field=f"{path}.weights")
    try:
        return mixture(built, weights)
    except ProcessError as err:
        raise ProcessError(f"{path}.components: {err}") from None


def _markov_chain(fields: dict, path: str) -> Process:
    if "matrix" not in fields:
        raise ProcessError(f"{path}.matrix is missing: a [V, V] list of rows, each summing to 1")
    check_transition_matrix(fields["matrix"], f"{path}.matrix")
    if fields.get("first", "stationary") not in FIRST_TOKEN:
        raise ProcessError(f"{path}.first={fields['first']!r} is invalid: one of {list(FIRST_TOKEN)}")
    try:
        return markov_chain(fields["matrix"], fields.get("first", "stationary"))
    except ProcessError as err:
        raise ProcessError(f"{path}: {err}") from None


def process_from_spec(spec, path: str = "process") -> Process | DirichletMarkov:
    """Build what `spec` describes (see the module docstring); `path` prefixes every error message."""
    name, fields = _fields(spec, path)
    if name in STRUCTURED:
        _check_known(name, fields, STRUCTURED[name], path)
        if name == "mixture":
            return _mixture(fields, path)
        if name == "markov_chain":
            return _markov_chain(fields, path)
        return DirichletMarkov(**_checked_params(name, fields, DIRICHLET_PARAMS, path))
    try:
        specs = param_specs(name, extra_names=tuple(STRUCTURED))
    except ProcessError as err:
        raise ProcessError(f"{path}.name: {err}") from None
    values = _checked_params(name, fields, specs, path)
    try:
        return build_checked(name, values)
    except ProcessError as err:
        raise ProcessError(f"{path}: {err}") from None
