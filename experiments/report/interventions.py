"""The interventions section of report.html and its one-screen summary."""


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


CAPTIONS = {
    "interventions_prior_shift": "Prior-shift steering: per site (rows) and shift (columns), KL per position from "
    "the shifted-prior Bayes prediction (solid) and the true-prior one (dashed) to the model, unsteered, steered "
    "along the log-odds decoder or encoder, and stepped randomly by the same norm; grey: the gap between the two "
    "Bayes predictions.",
}
SHIFT_CONDITIONS = (
    ("none", "unsteered"),
    ("steered", "log-odds decoder step"),
    ("random", "random step (decoder step's norm)"),
    ("encoder", "log-odds encoder step"),
    ("random_encoder", "random step (encoder step's norm)"),
)


def shift_results(section: dict) -> list:
    """The prior-shift results (one per site and shift) of an interventions section; a section written before
    several sites and shifts were supported holds one result itself."""
    shift = section.get("prior_shift") or {}
    return shift.get("results") or ([shift] if "per_position" in shift else [])


def mean_kl(result: dict) -> dict:
    """`{condition: {kl_shifted_nats, kl_base_nats}}` averaged over positions (computed when the file lacks it)."""
    return result.get("mean_kl") or {
        name: {k: sum(v) / len(v) for k, v in curves.items()} for name, curves in result["per_position"].items()
    }


def prior_shift_table(section: dict) -> list:
    """The prior-shift table (`(title, header, rows, note)`, or nothing): per site and shift, mean KL over positions
    from the shifted-prior and true-prior Bayes predictions to the model, unsteered, steered and random."""
    results = shift_results(section)
    if not results:
        return []
    header = ["site", "shift δ (log prior)", "log-odds decoder R²", "Bayes KL(shifted ‖ true)"]
    for _, label in SHIFT_CONDITIONS:
        header += [f"{label}: KL to shifted", "to true"]
    header += ["decoder step closer to shifted at every position"]
    rows = []
    for r in results:
        means, gap = mean_kl(r), r["bayes_kl_shift_vs_base_nats"]
        row = [r["site"], _shift_label(r["delta"]), r["decoder_r2"], sum(gap) / len(gap)]
        for name, _ in SHIFT_CONDITIONS:
            row += [means[name]["kl_shifted_nats"], means[name]["kl_base_nats"]]
        rows.append(row + ["yes" if r["closer_to_shifted_everywhere"]["steered"] else "no"])
    note = (
        "KL(Bayes ‖ model) in nats, averaged over positions of "
        f"{results[0]['num_sequences']} held-out sequences. A step that acts like a shifted prior brings the "
        "model closer to the shifted-prior prediction than to the true one; the random steps of the same norm are "
        "the controls."
    )
    return [("Prior-shift steering (mixture component posterior)", header, rows, note)]


def _shift_label(delta_M) -> str:
    """`+1.386 on component 0` for a shift on one component, else the whole vector."""
    moved = [m for m, d in enumerate(delta_M) if d != 0]
    if len(moved) == 1:
        return f"{delta_M[moved[0]]:+.4g} on component {moved[0]}"
    return "[" + ", ".join(f"{d:.4g}" for d in delta_M) + "]"


def interventions_tables(report: dict) -> list:
    """`(title, header, rows[, note])` tables for report.html: the patching curve, steering against its controls,
    and the prior-shift test."""
    section = report.get("interventions") or {}
    tables = []
    patch, carry = section.get("patching"), section.get("carry_forward") or {}
    if patch:
        modes = patch["modes"]
        has_carry = bool(carry.get("num_pairs"))
        header = ["site"] + [f"patched ({m}): fraction of KL gap closed" for m in modes]
        header += [f"same-prediction pairs ({m}): closed 1 position later" for m in modes] if has_carry else []
        rows = [
            [s]
            + [patch["closed"][m][s] for m in modes]
            + ([carry["closed"][m][s][0] for m in modes] if has_carry else [])
            for s in patch["sites"]
        ]
        tables.append((f"Activation patching ({patch['num_pairs']} pairs differing in belief)", header, rows))
    steer = section.get("steering")
    if steer:
        header = [
            "site",
            "belief decoder R²",
            "KL before (nats)",
            "after belief-decoder step",
            "after random step",
            "after next-token step",
            "after encoder step",
            "after random step (encoder's norm)",
            f"belief read at {steer['readout_site']}: distance to target, steered",
            "unsteered",
        ]
        rows = []
        for s in steer["sites"]:
            r = steer["per_site"][s]
            back = r["readback_distance"][steer["readout_site"]]
            rows.append(
                [
                    s,
                    r["decoder_r2"],
                    r["kl_before_nats"],
                    r["kl_belief_nats"],
                    r["kl_random_nats"],
                    r["kl_next_token_nats"],
                    r["kl_encoder_nats"],
                    r["kl_random_encoder_nats"],
                    back["steered"],
                    back["unsteered"],
                ]
            )
        tables.append(
            (f"Belief steering ({steer['num_pairs']} prefixes; KL from the target's Bayes prediction)", header, rows)
        )
    return tables + prior_shift_table(section)


def summary_text(section: dict) -> str:
    """A plain-text summary: per site, patching transfer and steering KL against the controls."""
    patch, steer = section.get("patching"), section.get("steering")
    carry = section.get("carry_forward") or {}
    sites = (patch or steer or {}).get("sites", [])
    modes = patch["modes"] if patch else []
    head = f"{'site':<22}" + "".join(f"{'closed ' + m:>12}" for m in modes)
    head += "".join(f"{'carry+1 ' + m:>13}" for m in modes) if carry.get("num_pairs") else ""
    head += f"{'KL before':>11}{'belief':>9}{'random':>9}{'next-tok':>9}{'encoder':>9}{'rand-enc':>9}" if steer else ""
    lines = [head] if sites else []
    for s in sites:
        line = f"{s:<22}" + "".join(f"{_fmt(patch['closed'][m][s]):>12}" for m in modes)
        if carry.get("num_pairs"):
            line += "".join(f"{_fmt(carry['closed'][m][s][0]):>13}" for m in modes)
        if steer:
            r = steer["per_site"][s]
            line += (
                f"{r['kl_before_nats']:>11.4f}{r['kl_belief_nats']:>9.4f}{r['kl_random_nats']:>9.4f}"
                f"{r['kl_next_token_nats']:>9.4f}{r['kl_encoder_nats']:>9.4f}{r['kl_random_encoder_nats']:>9.4f}"
            )
        lines.append(line)
    return "\n".join(lines + ([""] if lines else []) + _shift_lines(section))


def _shift_lines(section: dict) -> list[str]:
    """Prior-shift lines: per site and shift, mean KL to the shifted / true prior's Bayes prediction."""
    results = shift_results(section)
    if not results:
        return []
    head = f"prior shift {'site':<22}{'shift':>24}" + "".join(f"{n:>16}" for n, _ in SHIFT_CONDITIONS)
    lines = [head + "   (mean KL to shifted / to true prior, nats)"]
    for r in results:
        means = mean_kl(r)
        cells = "".join(
            f"{means[n]['kl_shifted_nats']:>8.4f}/{means[n]['kl_base_nats']:<7.4f}" for n, _ in SHIFT_CONDITIONS
        )
        lines.append(f"{'':<12}{r['site']:<22}{_shift_label(r['delta']):>24}{cells}")
    return lines
