"""Numbers as figures and tables print them: R² never rounded up to 1, p-values at a permutation test's floor."""

import math

import numpy as np


def format_r2(r2: float) -> str:
    """R² with enough decimals that 1 − R² keeps two significant digits (0.9995 -> "0.99950", never "1.000")."""
    if r2 is None or not math.isfinite(r2):
        return "–"
    if r2 >= 1.0:
        return f"{r2:.3f}"
    decimals = min(6, max(3, math.ceil(-math.log10(1.0 - r2)) + 1))
    text = f"{r2:.{decimals}f}"
    return f"> {1 - 10**-decimals:.{decimals}f}" if float(text) >= 1.0 else text


def kl_shown(kl):
    """A KL divergence (a number or an array) as figures and tables show it: never below 0 (a KL is >= 0, so
    negative values are floating-point rounding noise of two nearly equal cross-entropies)."""
    if kl is None:
        return None
    return float(max(kl, 0.0)) if np.ndim(kl) == 0 else np.maximum(np.asarray(kl, np.float64), 0.0)


def count(n: int, noun: str) -> str:
    """`n` and the noun, singular for exactly one: count(1, "step") -> "1 step", count(20, "step") -> "20 steps"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def format_p(p_value: float, num_permutations: int | None, compact: bool = False) -> str:
    """A permutation p-value: "p ≤ 0.001 (1,000 permutations)" at the test's floor 1/(n+1), else "p = 0.034 (...)".

    `compact`: without "p" and the count ("≤0.001", "0.034"), for narrow text tables.
    """
    if p_value is None:
        return "–"
    floor = bool(num_permutations) and p_value * (num_permutations + 1) <= 1.0 + 1e-9
    value = f"≤ {1.0 / num_permutations:g}" if floor else f"= {p_value:.2g}"
    if compact:
        return value.replace("= ", "").replace("≤ ", "≤")
    return f"p {value}" + (f" ({num_permutations:,} permutations)" if num_permutations else "")


def process_title(process) -> str:
    """A readable name: `hmm.display_name` for a finite process, the name and fields of another data source
    (the Dirichlet Markov family)."""
    import hmm

    if isinstance(process, hmm.Process):
        return hmm.display_name(process)
    fields = ", ".join(f"{k} = {v}" for k, v in vars(process).items())
    return f"{process.name} ({fields})"
