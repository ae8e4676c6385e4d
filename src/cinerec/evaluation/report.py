"""Markdown report and plot of an evaluation result (the dictionary the harness writes).

The plot is drawn with matplotlib's non-interactive Agg backend, so it works without a
display. matplotlib comes with the ``evaluation`` extra; without it the report is written
without the plot and says so (the result itself does not need matplotlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cinerec.errors import MissingExtraError

REPORT_FILE = "report.md"
PLOT_FILE = "ndcg.png"
HEADLINE = ("ndcg@10", "recall@10", "precision@10", "mrr@10", "auc")


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value['mean']:.4f} [{value['low']:.4f}, {value['high']:.4f}]"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def markdown_table(result: dict[str, Any], part: str) -> str:
    """One row per model for result part ``part`` (``"test"``, ``"k=3"``, ...)."""
    header = ["model", *HEADLINE, "coverage@10", "novelty@10", "fit s", "ms/user"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, model in result["models"].items():
        scores = model["results"].get(part)
        if scores is None:
            continue
        cells = [key, *(_cell(scores.get(m, "")) for m in HEADLINE)]
        cells += [_cell(scores.get("coverage@10", "")), _cell(scores["novelty@10"]["mean"])]
        cells += [f"{model['fit_seconds']:.1f}", f"{scores['inference_ms_per_user']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parts(result: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for model in result["models"].values():
        parts.extend(p for p in model["results"] if p not in parts)
    return parts


def plot_ndcg(result: dict[str, Any], path: Path, metric: str = "ndcg@10") -> None:
    """Bar chart of ``metric`` per model and result part, with the bootstrap interval.

    Raises:
        MissingExtraError: matplotlib (the ``evaluation`` extra) is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("the plot", "evaluation") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(result["models"])
    parts = [p for p in _parts(result) if p != "validation"] or _parts(result)
    width = 0.8 / max(len(parts), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(models) + 2), 3.6))
    for j, part in enumerate(parts):
        means: list[float] = []
        errors: list[list[float]] = [[], []]
        for key in models:
            ci = result["models"][key]["results"].get(part, {}).get(metric)
            mean = ci["mean"] if ci else 0.0
            means.append(mean)
            errors[0].append(mean - ci["low"] if ci else 0.0)
            errors[1].append(ci["high"] - mean if ci else 0.0)
        xs = [i + (j - (len(parts) - 1) / 2) * width for i in range(len(models))]
        ax.bar(xs, means, width=width, yerr=errors, capsize=3, label=part)
    ax.set_xticks(range(len(models)), models, rotation=20)
    ax.set_ylabel(metric)
    ax.set_title(f"{result['protocol']} on {result['dataset']}: {metric} (95% CI)")
    if len(parts) > 1:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: dict[str, Any], out_dir: Path) -> Path:
    """Write ``report.md`` and ``ndcg.png`` into ``out_dir``; returns the report's path.

    Without matplotlib the report is written without the plot, and the reason is appended to
    ``result["notes"]`` (one line naming the extra to install).
    """
    try:
        plot_ndcg(result, out_dir / PLOT_FILE)
        plot = f"![ndcg@10]({PLOT_FILE})"
    except MissingExtraError as exc:
        result.setdefault("notes", []).append(str(exc))
        plot = f"No plot: {exc}."
    lines = [
        f"# Evaluation: protocol `{result['protocol']}` on {result['dataset']}",
        "",
        f"Data fingerprint `{result['data_fingerprint'][:16]}`; "
        f"settings {result['protocol_settings']}; sizes {result['data']}.",
        f"Cells are means with {int(result['options']['level'] * 100)}% per-user bootstrap "
        f"intervals ({result['options']['resamples']} resamples); every item is ranked "
        "(no sampled negatives).",
        "",
    ]
    for part in _parts(result):
        lines += [f"## {part}", "", markdown_table(result, part), ""]
    lines += ["## Configurations", ""]
    for key, model in result["models"].items():
        lines.append(f"- **{key}** (`{model['model']}`): `{model['config']}`")
    lines += ["", plot, ""]
    path = out_dir / REPORT_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
