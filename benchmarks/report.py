"""Write a run's figures as JSON, a markdown table and a PNG chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .figures import Figure


def _num(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.0f}" if x == int(x) and abs(x) >= 1 else f"{x:.3g}"


def _ratio_cell(f: Figure) -> str:
    r = f.to_json()["ratio"]
    return f"{_num(r['median'])}x ({_num(r['min'])}–{_num(r['max'])})"


def _abs_cell(f: Figure, key: str) -> str:
    s = f.to_json()[key]
    return f"{_num(s['median'])} {f.unit} ({_num(s['min'])}–{_num(s['max'])})"


def _goal_cell(f: Figure) -> str:
    if f.goal is None:
        return ""
    return f"{f.goal.text()}: {'met' if f.met else '**missed**'}"


def markdown(meta: dict, figures: list[Figure]) -> str:
    lines = [f"Measured {meta['date']} on {meta['machine']}; {meta['repeats']} repeats "
             "(min–max in brackets).", "",
             "| suite | figure | ratio to floor, median (min–max) | value | floor | goal |",
             "|---|---|---|---|---|---|"]
    for f in figures:
        if not f.values:
            lines.append(f"| {f.suite} | {f.name} | not measured: {f.note} | | | |")
            continue
        lines.append(f"| {f.suite} | {f.name} | {_ratio_cell(f)} | {_abs_cell(f, 'value')} | "
                     f"{f.floor}: {_abs_cell(f, 'floor_value')} | {_goal_cell(f)} |")
    notes = [f"- {f.suite} / {f.name}: {f.note}" for f in figures if f.values and f.note]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def chart(path: Path, meta: dict, figures: list[Figure]) -> None:
    """Median ratio per figure as a bar, min..max as an error bar, the goal as a tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [f for f in figures if f.values and all(math.isfinite(r) for r in f.ratios)]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(shown) + 1.6))
    labels = [f"{f.suite}: {f.name}" for f in shown]
    med = [f.to_json()["ratio"]["median"] for f in shown]
    lo = [m - min(f.ratios) for m, f in zip(med, shown, strict=True)]
    hi = [max(f.ratios) - m for m, f in zip(med, shown, strict=True)]
    colors = ["tab:gray" if f.met is None else "tab:green" if f.met else "tab:red" for f in shown]
    y = list(range(len(shown)))
    ax.barh(y, med, xerr=[lo, hi], color=colors, capsize=3)
    for i, f in enumerate(shown):
        if f.goal is not None and f.goal.on == "ratio":
            ax.plot([f.goal.max] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.axvline(1.0, color="black", linestyle=":", linewidth=1)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("ratio to the floor measured in the same run (1 = at the floor; | = goal)")
    ax.set_title(f"llminfra benchmarks, {meta['date']}, {meta['machine']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(out: Path, meta: dict, figures: list[Figure]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "results.md",
             "chart": out / "results.png"}
    paths["json"].write_text(json.dumps({"meta": meta, "figures": [f.to_json() for f in figures]},
                                        indent=1) + "\n")
    paths["markdown"].write_text(markdown(meta, figures))
    chart(paths["chart"], meta, figures)
    return paths
