"""Notebook 03's prose and table: the parameter arithmetic checked. Every number comes from a
:class:`hwlib.studies.params.ParamStudyResult`; every condition a sentence states (whether the
counts match, which claims are right, which model has more parameters or compute, where the
crossovers lie) is computed from it."""

from __future__ import annotations

import pandas as pd

from ..params import OriginalClaim
from ..studies.params import ParamStudyResult


def _label(res: ParamStudyResult, m: str) -> str:
    return res.models[m].label


def _more_or_fewer(ratio: float, *, count: bool) -> str:
    """'more'/'fewer' (a count) or 'more'/'less' (an amount) for a ratio over 1 or under 1."""
    if ratio == 1:
        return "as many" if count else "as much"
    return "more" if ratio > 1 else ("fewer" if count else "less")


def verdict_text(claim: OriginalClaim) -> str:
    """'correct', or the verdict with the reason: 'wrong: <why>', 'incomplete: <why>'."""
    return "correct" if claim.verdict == "correct" else f"{claim.verdict}: {claim.why}"


def original_vs_correct_table(res: ParamStudyResult) -> pd.DataFrame:
    """Every count the original report states (its arithmetic, then its torchinfo printouts), the
    correct value computed here, and the verdict."""
    return pd.DataFrame(
        [
            {
                "count": c.what,
                "original report": c.original,
                "correct (computed here)": c.correct,
                "verdict": verdict_text(c),
            }
            for c in res.claims
        ]
    ).set_index("count")


def summary_markdown(res: ParamStudyResult) -> str:
    """The Summary: whether the formulas are the models' counts, how many of the original's counts
    are right, and the two models' parameters against their compute."""
    n = {v: len(res.claims_by(v)) for v in ("correct", "wrong", "incomplete")}
    cand, base = _label(res, res.candidate), _label(res, res.baseline)
    at = res.info.image_size
    macs = res.macs_ratio.get(at)
    match = (
        f"all {len(res.checks)} closed-form parameter counts equal torchinfo's"
        if res.all_match
        else f"{res.matching} of {len(res.checks)} closed-form parameter counts equal torchinfo's"
    )
    lines = [
        f"**Summary**: {match}. Of the original report's {len(res.claims)} counts, {n['correct']} are right, "
        f"{n['wrong']} wrong and {n['incomplete']} printed but not discussed.",
    ]
    if macs is not None:
        lines.append(
            f"{cand} has {res.params_ratio:.3f}x {base}'s parameters and {macs:.2f}x its multiply-adds per "
            f"image at {at} px ({res.num_classes} classes)."
        )
    lines.append(
        f"Limit: these are counts at the original's setting ({res.num_classes} classes, {at} px), exact and "
        "independent of any data or run; they measure neither time nor accuracy."
    )
    return " ".join(lines)


def findings_markdown(res: ParamStudyResult) -> str:
    """Notebook 03's Findings, one bullet per outcome."""
    lines = []
    bad = [c.name for c in res.checks if not c.match]
    lines.append(
        f"- **Closed form vs torchinfo**: {res.matching} of {len(res.checks)} counts match"
        + (f"; these do not: {', '.join(bad)}." if bad else ", so the formulas are the models' real counts.")
    )
    right = res.claims_by("correct")
    wrong = res.claims_by("wrong")
    untold = res.claims_by("incomplete")
    if right:
        lines.append(
            f"- **The original's counts that are right**: {'; '.join(f'{c.what} ({c.original})' for c in right)}."
        )
    if wrong:
        fixes = "; ".join(f"{c.what}: {c.original} -> {c.correct} ({c.why})" for c in wrong)
        lines.append(f"- **Its errors, with the correct values**: {fixes}.")
    if untold:
        told = "; ".join(f"{c.what}: {c.original} -> {c.correct} ({c.why})" for c in untold)
        lines.append(f"- **Printed but not discussed**: {told}.")
    ratios = res.macs_ratio
    if ratios:
        lo, hi = min(ratios.values()), max(ratios.values())
        cand, base = _label(res, res.candidate), _label(res, res.baseline)
        params_word = _more_or_fewer(res.params_ratio, count=True)
        macs_word = _more_or_fewer(lo, count=False) if (lo > 1) == (hi > 1) and lo != 1 else "more or less"
        span = f"{lo:.2f}x" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}x to {hi:.2f}x"
        opposite = (res.params_ratio < 1 < lo) or (res.params_ratio > 1 > hi)
        lines.append(
            f"- **{params_word.capitalize()} parameters, {macs_word} compute**: {cand} has {res.params_ratio:.3f}x "
            f"{base}'s parameters and {span} its multiply-adds per image "
            f"({', '.join(f'{s} px' for s in ratios)})"
            + (": a parameter count does not measure cost." if opposite else ".")
        )
    lines.append(_crossover_line(res))
    return "\n".join(line for line in lines if line)


def _crossover_line(res: ParamStudyResult) -> str:
    """Where each FlexConv layer has fewer parameters than Conv2d(C, out, 3); whether original mode's
    crossover is C = H*W + 1 at every map size (the channels must outnumber the map's pixels), and
    whether it grows with the map size (the saving is only where maps are small)."""
    if not res.layers:
        return ""
    original = sorted(((layer.map_size, layer) for layer in res.layers if layer.map_size is not None),
                      key=lambda t: t[0])  # fmt: skip
    others = [layer for layer in res.layers if layer.map_size is None]
    pixels = bool(original) and all(layer.crossover == s * s + 1 for s, layer in original)
    grows = len(original) > 1 and all(a.crossover < b.crossover for (_, a), (_, b) in zip(original, original[1:]))
    parts = []
    if original:
        at = ", ".join(f"{s}x{s} maps from C = {layer.crossover:,}" for s, layer in original)
        parts.append(
            f"original mode: {at}"
            + (" (C = H*W + 1 at every map size: the input channels must outnumber the map's pixels)" if pixels else "")
        )
    parts += [
        f"{layer.mode} mode ({layer.params:,} parameters at any map size): from C = {layer.crossover:,}"
        for layer in others
    ]
    tail = (
        " So in original mode the saving is real only deep in a network, where maps are small and channels many, "
        "as the original argues."
        if grows
        else ""
    )
    return (
        f"- **Where FlexConv saves parameters** ({res.out_channels} output channels; {res.conv_label} has more "
        f"parameters than FlexConv from): {'; '.join(parts)}.{tail}"
    )


def limitations_markdown(res: ParamStudyResult) -> str:
    """Notebook 03's Limitations: what closed-form counting cannot tell."""
    sizes = ", ".join(f"{s} px" for s in res.sizes)
    return "\n".join(
        [
            "- **Speed**: parameters and multiply-adds are not time. Memory traffic, layer shapes, the kernels a "
            "library picks and the device decide how fast a model runs; the Dense4 vs ResNet34 notebook times "
            "inference latency on the machine that ran it, and shows it only if that machine was otherwise idle.",
            "- **Accuracy**: a count says nothing about how well a model learns or generalises; only training "
            "and testing it does (the FlexConv and the Dense4 vs ResNet34 notebooks).",
            f"- **Setting**: the counts are at the original's setting ({res.num_classes} classes, "
            f"{res.info.image_size} px), the two models' multiply-adds at {sizes}; the heads grow with the class "
            "count and the multiply-adds with the image area, so a run at another setting has other numbers (the "
            "Dense4 vs ResNet34 notebook prints its own).",
            "- **What is counted**: multiply-adds of a single forward pass per image (torchinfo's modules, plus "
            "FlexConv's per-image convolution of its generated kernels added by a hook); the backward pass, the "
            "optimizer and data loading are not counted.",
        ]
    )


__all__ = ["findings_markdown", "limitations_markdown", "original_vs_correct_table", "summary_markdown", "verdict_text"]
