"""Shuffle control: the R^2 of refits onto permuted target rows, many permutations at once, no refactorisation.

With `Q = sqrt(w) * x_c @ whiten` an orthonormal basis of the centred weighted design, the explained sum of
squares of permuted targets `Y_p` is `|Q^T (sqrt(w) * Y_p)|^2 = |(x_c whiten)^T (w * Y_p)|^2`. The weights stay
with the activation rows; only the targets move. All targets are expressed in one low-rank basis `B`
(`Y = mean + B V^T`, rank <= S - 1 for beliefs, and next-token distributions are linear in beliefs), and the
concatenation of all sites spans every site, so one product `(x_c whiten)^T (w * B_p)` per permutation
serves every site, every concatenation and every target.
"""

from dataclasses import dataclass

import numpy as np

DEFAULT_PERMUTATIONS = 1000
DEFAULT_CV_PERMUTATIONS = 100  # the held-out null refits k folds per permutation
CHUNK = 32  # permutations per matrix product


@dataclass(frozen=True)
class NullDistribution:
    """R^2 of the refits on permuted targets, and the real fit's R^2 against them."""

    r2_P: np.ndarray
    observed: float

    @property
    def p_value(self) -> float:
        """`(1 + #{null >= observed}) / (1 + P)`: never zero, exact for a permutation test."""
        return float((1 + np.sum(self.r2_P >= self.observed)) / (1 + len(self.r2_P)))

    def summary(self) -> dict:
        r2 = self.r2_P
        return {
            "num_permutations": int(len(r2)),
            "mean": float(r2.mean()),
            "std": float(r2.std()),
            "q99": float(np.quantile(r2, 0.99)),
            "max": float(r2.max()),
            "p_value": self.p_value,
        }


def permutation_chunks(n: int, num_permutations: int, rng: np.random.Generator, chunk: int = CHUNK):
    """Seeded uniform random permutations of `n` rows, `chunk` at a time: int64 `[c, n]`."""
    for start in range(0, num_permutations, chunk):
        yield np.stack([rng.permutation(n) for _ in range(min(chunk, num_permutations - start))])


def target_basis(targets: dict):
    """`Y = mean + B_NxK @ V_KxC` over all targets side by side, and each target's column span in V."""
    y = np.concatenate([np.asarray(v, np.float64) for v in targets.values()], axis=1)
    u, s, vt = np.linalg.svd(y - y.mean(0), full_matrices=False)
    k = max(1, int(np.sum(s > 1e-12 * s[0]))) if s.size and s[0] > 0 else 1
    spans, start = {}, 0
    for name, v in targets.items():
        spans[name] = slice(start, start + v.shape[1])
        start += v.shape[1]
    return u[:, :k] * s[:k], vt[:k], spans


def target_metrics(v_KxC: np.ndarray, spans: dict) -> dict:
    """`{target: V_span V_span^T [K, K]}`: the squared length of a target's part of `z @ V` is `z^T M z`."""
    return {t: v_KxC[:, span] @ v_KxC[:, span].T for t, span in spans.items()}


def quadratic_form(z_KxM: np.ndarray, metric_KxK: np.ndarray) -> np.ndarray:
    """`[M]`: `z_m^T M z_m` for every column of `z` (two matrix products, no per-element einsum)."""
    return np.sum(z_KxM * (metric_KxK @ z_KxM), axis=0)


def _covers(idx, num_columns: int) -> bool:
    if isinstance(idx, slice):
        return idx.indices(num_columns)[:2] == (0, num_columns)
    return np.array_equal(np.unique(idx), np.arange(num_columns))


def null_bases(x_NxD: np.ndarray, solutions: dict, gram_DxD: np.ndarray | None = None):
    """Orthonormal (whitened) coordinates to permute against, float32 `[N, R]`, and per group the rows of
    them it uses and the map from them to its own whitened coordinates (None: they are its own).

    With the centred Gram of every column and a group spanning every column (the concatenation of all
    sites), that group's whitened coordinates serve every group: for g inside b,
    `whiten_g^T x_g^T = whiten_g^T G_gb whiten_b (x_b whiten_b)^T` on the weighted design.
    """
    D = x_NxD.shape[1]
    cover = next((g for g, sol in solutions.items() if _covers(sol.idx, D)), None) if gram_DxD is not None else None
    bases = [cover] if cover is not None else list(solutions)
    starts = np.cumsum([0] + [solutions[b].rank for b in bases])
    u_NxR = np.concatenate([x_NxD[:, solutions[b].idx] @ solutions[b].whiten_DxR for b in bases], axis=1)
    plan = {}
    for g, sol in solutions.items():
        b = cover if cover is not None else g
        rows = slice(int(starts[bases.index(b)]), int(starts[bases.index(b) + 1]))
        base = solutions[b]
        to_own = None if b == g else sol.whiten_DxR.T @ gram_DxD[sol.idx][:, base.idx] @ base.whiten_DxR
        plan[g] = (rows, to_own)
    return u_NxR.astype(np.float32), plan


def shuffle_r2(
    x_NxD: np.ndarray, w_N: np.ndarray, targets: dict, solutions: dict, permutations, gram_DxD: np.ndarray | None = None
) -> dict:
    """`{group: {target: r2 [P]}}` for refits on permuted targets.

    `x_NxD` is the design the `solutions` were fitted on, centred at its `w`-weighted mean (as `design` builds
    it); `permutations` yields int arrays `[c, N]` (e.g. `permutation_chunks`). `gram_DxD`, the centred
    weighted Gram of all columns, lets one concatenation's basis serve every group (see `null_bases`).
    The products with permuted targets run in float32 on orthonormal coordinates (no ill-conditioning).
    """
    w = np.asarray(w_N, np.float64)
    basis_NxK, v_KxC, spans = target_basis(targets)
    K = basis_NxK.shape[1]
    basis_KxN = np.ascontiguousarray(basis_NxK.T)
    u_NxR, plan = null_bases(x_NxD, solutions, gram_DxD)
    metrics = target_metrics(v_KxC, spans)
    out = {g: {t: [] for t in targets} for g in solutions}
    for perm_cxN in permutations:
        c = len(perm_cxN)
        gathered_KcxN, weighted_KcxN = permuted_basis(basis_KxN, perm_cxN, w)
        z_RxKc = (u_NxR.T @ weighted_KcxN.astype(np.float32).T).astype(np.float64)
        totals = permuted_totals(gathered_KcxN, weighted_KcxN, w, v_KxC, spans)
        for g, (rows, to_own) in plan.items():
            proj = z_RxKc[rows] if to_own is None else to_own @ z_RxKc[rows]
            proj_KxRc = proj.reshape(-1, K, c).transpose(1, 0, 2).reshape(K, -1)
            for t, metric_KxK in metrics.items():
                explained_Rxc = quadratic_form(proj_KxRc, metric_KxK).reshape(-1, c)
                out[g][t].append(explained_Rxc.sum(0) / totals[t])
    return {g: {t: np.concatenate(v) for t, v in per.items()} for g, per in out.items()}


def permuted_basis(basis_KxN: np.ndarray, perm_cxN: np.ndarray, w_N: np.ndarray):
    """The target basis with rows permuted (weights stay with the rows), `[K*c, N]` ordered (k, permutation),
    and the same times the weights."""
    gathered_KcxN = np.take(basis_KxN, perm_cxN, axis=1).reshape(len(basis_KxN) * len(perm_cxN), -1)
    return gathered_KcxN, gathered_KcxN * w_N


def permuted_totals(gathered_KcxN, weighted_KcxN, w_N, v_KxC, spans) -> dict:
    """`{target: [c]}`: each permuted target's weighted total sum of squares about its weighted mean."""
    K = v_KxC.shape[0]
    c = len(gathered_KcxN) // K
    first_cxK = (gathered_KcxN @ w_N).reshape(K, c).T
    second_cxKxK = np.matmul(
        weighted_KcxN.reshape(K, c, -1).transpose(1, 0, 2), gathered_KcxN.reshape(K, c, -1).transpose(1, 2, 0)
    )
    cov_cxKxK = second_cxKxK - first_cxK[:, :, None] * first_cxK[:, None, :] / w_N.sum()
    return {t: np.einsum("kj,ckl,lj->c", v_KxC[:, span], cov_cxKxK, v_KxC[:, span]) for t, span in spans.items()}
