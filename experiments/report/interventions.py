"""The interventions section of report.html and its one-screen summary."""


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def interventions_tables(report: dict) -> list:
    """`(title, header, rows)` tables for report.html: the patching curve and steering against its controls."""
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
    return tables


def summary_text(section: dict) -> str:
    """A plain-text summary: per site, patching transfer and steering KL against the controls."""
    patch, steer = section.get("patching"), section.get("steering")
    carry = section.get("carry_forward") or {}
    sites = (patch or steer or {}).get("sites", [])
    modes = patch["modes"] if patch else []
    head = f"{'site':<22}" + "".join(f"{'closed ' + m:>12}" for m in modes)
    head += "".join(f"{'carry+1 ' + m:>13}" for m in modes) if carry.get("num_pairs") else ""
    head += f"{'KL before':>11}{'belief':>9}{'random':>9}{'next-tok':>9}{'encoder':>9}{'rand-enc':>9}" if steer else ""
    lines = [head]
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
    return "\n".join(lines)
