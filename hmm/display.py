"""How a process is named in figures, reports and summaries: `Mess3 (x = 0.05, α = 0.85)`."""

from hmm.process import Process
from hmm.registry import registered_params

NAMES = {
    "mess3": "Mess3",
    "rrxor": "RRXOR",
    "leaky_rrxor": "leaky RRXOR",
    "z1r": "Z1R",
    "even": "even process",
    "golden_mean": "golden mean",
    "sns": "SNS",
    "random_hmm": "random HMM",
    "post_quantum": "post-quantum",
    "bloch_walk": "Bloch walk",
    "fanizza": "Fanizza",
    "markov_chain": "Markov chain",
    "markov_pool": "Markov pool",
    "dirichlet_markov": "Dirichlet Markov chains",
}
SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "lam": "λ",
    "phi": "φ",
    "eps": "ε",
    "p_z": "p_z",
    "vocab_size": "V",
    "num_chains": "M",
}


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _named(name: str, params: dict) -> str:
    if name == "mixture":
        return " + ".join(f"{w:g} × {_named(n, dict(p))}" for (n, p), w in zip(params["components"], params["weights"]))
    order = [k for k in registered_params(name) if k in params] + sorted(set(params) - set(registered_params(name)))
    args = ", ".join(f"{SYMBOLS.get(k, k)} = {_value(params[k])}" for k in order)
    return f"{NAMES.get(name, name)} ({args})" if args else NAMES.get(name, name)


def display_name(process: Process) -> str:
    """The process's readable name with its parameters in their declared order, e.g. `Mess3 (x = 0.05, α = 0.85)`.

    A mixture lists its components with their weights: `0.5 × Mess3 (x = 0.05, α = 0.85) + 0.5 × Mess3 (...)`.
    """
    return _named(process.name, process.param_dict)
