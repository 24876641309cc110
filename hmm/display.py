"""How a process is named in figures, reports and summaries: `Mess3 (x = 0.05, α = 0.85)`."""

from hmm.process import Process
from hmm.registry import registered_params

NAMES = {"mess3": "Mess3", "rrxor": "RRXOR", "leaky_rrxor": "leaky RRXOR", "z1r": "Z1R", "even": "even process",
         "golden_mean": "golden mean", "sns": "SNS", "random_hmm": "random HMM", "post_quantum": "post-quantum",
         "bloch_walk": "Bloch walk", "fanizza": "Fanizza"}
SYMBOLS = {"alpha": "α", "beta": "β", "lam": "λ", "phi": "φ", "eps": "ε", "p_z": "p_z"}


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def display_name(process: Process) -> str:
    """The process's readable name with its parameters in their declared order, e.g. `Mess3 (x = 0.05, α = 0.85)`."""
    params = process.param_dict
    order = [k for k in registered_params(process.name) if k in params] + sorted(set(params) -
                                                                                 set(registered_params(process.name)))
    args = ", ".join(f"{SYMBOLS.get(k, k)} = {_value(params[k])}" for k in order)
    name = NAMES.get(process.name, process.name)
    return f"{name} ({args})" if args else name
