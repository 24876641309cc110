"""A readable summary of a process: sizes, stationary distribution, myopic entropies, its mixed-state tree."""

import numpy as np

import hmm

LN2 = np.log(2)


def describe_process(process: hmm.Process, max_len: int, tree: hmm.MixedStatePresentation) -> str:
    """Multi-line text for `belieflab process`: what a researcher checks before training on a process."""
    kind = "generalized HMM" if process.is_generalized else "HMM"
    states = tree.states
    h = hmm.myopic_entropy(process, max_len, tree)
    lines = [
        hmm.display_name(process),
        f"  kind: {kind}, vocab {process.vocab_size}, states {process.num_states}",
        f"  stationary pi: {np.array2string(process.stationary_distribution, precision=4)}",
        *(
            [f"  initial belief (declared): {np.array2string(process.initial_belief, precision=4)}"]
            if not np.allclose(process.initial_belief, process.stationary_distribution)
            else []
        ),
        *(
            [
                f"  mixture of {len(process.component_sizes)} components, prior "
                f"{np.array2string(hmm.mixture_weights(process), precision=4)}"
            ]
            if process.is_mixture
            else []
        ),
        f"  mixed-state tree to depth {max_len}: {tree.num_prefixes:,} prefixes,"
        f" {states.num_states:,} distinct beliefs (grid {tree.state_tol:g})",
    ]
    if states.is_finite:
        complexity = hmm.statistical_complexity(process, max_len, tree)
        rate = hmm.entropy_rate(process, max_len, tree)
        lines.append(
            f"  presentation: finite, {int(states.recurrent.sum())} recurrent states;"
            f" entropy rate {rate:.4f} nats ({rate / LN2:.4f} bits),"
            f" statistical complexity {complexity:.4f} nats ({complexity / LN2:.4f} bits)"
        )
    else:
        lines.append(
            f"  presentation: infinite or not closed by depth {max_len};"
            f" entropy rate <= h({max_len}) = {h[-1]:.4f} nats"
        )
    lines.append("  myopic entropy h(L) = H(X_L-1 | X_0..X_L-2):")
    lines.append("      L   nats     bits")
    lines += [f"    {k + 1:3d}   {v:.4f}   {v / LN2:.4f}" for k, v in enumerate(h)]
    no_bos, bos = (hmm.optimal_loss(process, max_len, bos=b, tree=tree) for b in (False, True))
    lines.append(
        f"  optimal mean loss of a model of context {max_len} (model.n_ctx={max_len}, as `belieflab run` "
        f"reports it): {no_bos:.4f} nats ({no_bos / LN2:.4f} bits); with BOS (model.bos=true): {bos:.4f} nats"
    )
    return "\n".join(lines)
