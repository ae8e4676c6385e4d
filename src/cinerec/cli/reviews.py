"""``cinerec reviews train|select|import|audit|summarize``: the review-model loop and its use.

Wired into the main CLI with ``app.add_typer(reviews_app, name="reviews")``.
Each command builds Settings and calls :mod:`cinerec.reviews.workflow`, nothing more.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cinerec.cli.common import data_dir_of as _data_dir
from cinerec.cli.common import fail as _fail
from cinerec.cli.common import settings_from as _settings
from cinerec.errors import CinerecError

if TYPE_CHECKING:
    from cinerec.reviews.workflow import TrainReport

reviews_app = typer.Typer(
    add_completion=False,
    help="Review sentiment and aspects: train, select, import, audit, summarize.",
)

TaskArg = Annotated[str, typer.Argument(help="imdb, nsmc (sentiment) or aspects.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data sets directory.")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="State directory.")]


def _echo_report(verb: str, report: TrainReport) -> None:
    typer.echo(
        f"{verb} {report.task} on {report.n_train:,} reviews ({report.n_human} human labels) "
        f"in {report.seconds:.0f} s -> {report.path}"
    )
    for name, value in report.scores.items():
        typer.echo(f"  {name}: {value}")


@reviews_app.command("train")
def train(
    task: TaskArg,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    limit: Annotated[
        int | None, typer.Option(help="Train on at most this many reviews (sampled).")
    ] = None,
    seed: int = 0,
) -> None:
    """Train a task's model (corpus + imported labels) and print held-out accuracy."""
    from cinerec.reviews.workflow import train_task

    s = _settings(data_dir, home)
    try:
        report = train_task(task, data_dir=_data_dir(s), home=s.home, limit=limit, seed=seed)
    except CinerecError as exc:
        raise _fail(exc) from None
    _echo_report("Trained", report)


@reviews_app.command("finetune")
def finetune(
    task: Annotated[str, typer.Argument(help="imdb (the MiniLM is English-only).")] = "imdb",
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    limit: Annotated[int | None, typer.Option(help="Training reviews (sampled).")] = 4000,
    eval_limit: Annotated[int | None, typer.Option(help="Reviews per scoring split.")] = 1000,
    epochs: Annotated[int, typer.Option(help="At most this many epochs.")] = 2,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 5e-5,
    batch_size: Annotated[int, typer.Option(help="Reviews per step.")] = 16,
    max_tokens: Annotated[int, typer.Option(help="Word pieces per review (head + tail).")] = 256,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 2,
    export: Annotated[bool, typer.Option(help="Also write ONNX fp32 and int8 copies.")] = True,
    seed: int = 0,
) -> None:
    """Fine-tune MiniLM for review sentiment, print held-out accuracy, export it to ONNX."""
    from cinerec.reviews.transformer import TransformerConfig
    from cinerec.reviews.workflow import finetune_task

    s = _settings(data_dir, home)

    def step(i: int, total: int, loss: float) -> None:
        if i % 25 == 0 or i == total:
            typer.echo(f"  step {i}/{total}  loss {loss:.3f}")

    try:
        config = TransformerConfig(
            max_tokens=max_tokens,
            head_tokens=max_tokens // 2,
            learning_rate=learning_rate,
            batch_size=batch_size,
            epochs=epochs,
            threads=threads,
            seed=seed,
        )
        report = finetune_task(
            task,
            data_dir=_data_dir(s),
            home=s.home,
            config=config,
            limit=limit,
            eval_limit=eval_limit,
            export=export,
            seed=seed,
            on_step=step,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    _echo_report("Fine-tuned", report)


@reviews_app.command("tune")
def tune(
    task: Annotated[str, typer.Argument(help="imdb (the MiniLM is English-only).")] = "imdb",
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    samples: Annotated[int, typer.Option(help="Trials drawn from the space.")] = 8,
    max_epochs: Annotated[int, typer.Option(help="Epochs of the longest trial (<= 5).")] = 3,
    limit: Annotated[int | None, typer.Option(help="Training reviews (sampled).")] = 2000,
    eval_limit: Annotated[int | None, typer.Option(help="Validation reviews.")] = 500,
    max_tokens: Annotated[int, typer.Option(help="Word pieces per review.")] = 128,
    cpus: Annotated[int, typer.Option(help="CPUs per trial.")] = 2,
    address: Annotated[
        str | None, typer.Option(help="A Ray cluster ('auto'); default: a local Ray.")
    ] = None,
    seed: int = 0,
) -> None:
    """Search learning rate, batch size and accumulation with Ray Tune's ASHA scheduler."""
    from cinerec.reviews.sentiment.tuning import SearchConfig, table_markdown
    from cinerec.reviews.transformer import TransformerConfig
    from cinerec.reviews.workflow import tune_task

    s = _settings(data_dir, home)
    try:
        search = SearchConfig(
            num_samples=samples,
            max_epochs=max_epochs,
            cpus_per_trial=cpus,
            seed=seed,
            base=TransformerConfig(max_tokens=max_tokens, head_tokens=max_tokens // 2),
        )
        result = tune_task(
            task,
            data_dir=_data_dir(s),
            home=s.home,
            search=search,
            limit=limit,
            eval_limit=eval_limit,
            address=address,
            seed=seed,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(table_markdown(result.table))
    typer.echo(f"{len(result.table)} trials in {result.seconds:.0f} s -> {result.storage}")


@reviews_app.command("summarize")
def summarize(
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    limit: Annotated[int | None, typer.Option(help="At most this many movies.")] = None,
) -> None:
    """Summarise the IMDB reviews of every catalog movie (aspects, verdicts, highlighted quotes)
    and store them for the movie pages, cards, reasons, chat and posts."""
    from cinerec.services.platform import Platform
    from cinerec.services.reviews import build_review_summaries

    s = _settings(data_dir, home)
    platform = Platform(s)
    try:
        platform.migrate()
        report = build_review_summaries(platform, data_dir=_data_dir(s), progress=True, limit=limit)
    except CinerecError as exc:
        raise _fail(exc) from None
    trained = f" (trained {', '.join(report.trained)} first)" if report.trained else ""
    typer.echo(
        f"Summarised {report.movies:,} movies from {report.reviews:,} reviews "
        f"in {report.seconds:.0f} s{trained}"
    )


@reviews_app.command("select")
def select(
    task: TaskArg,
    n: Annotated[int, typer.Argument(help="How many reviews to pick.")],
    out: Annotated[Path, typer.Option("--out", help="Export file: .csv or .jsonl.")] = Path(
        "to-label.csv"
    ),
    rarity_weight: Annotated[float, typer.Option(help="0 = uncertainty only.")] = 0.3,
    pool: Annotated[int, typer.Option(help="Candidates scored (sampled from train).")] = 5000,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Export the N most useful unlabelled reviews (uncertain, rare) for annotation."""
    from cinerec.reviews.workflow import select_candidates

    s = _settings(data_dir, home)
    try:
        cands = select_candidates(
            task,
            data_dir=_data_dir(s),
            home=s.home,
            n=n,
            out=out,
            rarity_weight=rarity_weight,
            pool_limit=pool,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(f"Wrote {len(cands)} reviews to {out}; fill the 'label' column, then import it.")


@reviews_app.command("import")
def import_(
    task: TaskArg,
    path: Annotated[Path, typer.Argument(help="The filled export file (.csv or .jsonl).")],
    retrain: Annotated[bool, typer.Option(help="Retrain the task's model afterwards.")] = True,
    limit: Annotated[int | None, typer.Option(help="Training cap when retraining.")] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Add annotated labels to the task's store (newer labels win) and retrain."""
    from cinerec.reviews.workflow import import_labels, train_task

    s = _settings(data_dir, home)
    try:
        count = import_labels(task, path=path, home=s.home)
        typer.echo(f"Imported {count} labels for {task}.")
        if retrain:
            report = train_task(task, data_dir=_data_dir(s), home=s.home, limit=limit)
            typer.echo(f"Retrained {task} with {report.n_human} human labels -> {report.path}")
            for name, value in report.scores.items():
                typer.echo(f"  {name}: {value}")
    except CinerecError as exc:
        raise _fail(exc) from None


@reviews_app.command("audit")
def audit(
    task: TaskArg,
    threshold: Annotated[float, typer.Option(help="Flag labels with p below this.")] = 0.1,
    home: HomeOpt = None,
) -> None:
    """List human labels a cross-validated model doubts, and identical texts in conflict."""
    from cinerec.reviews.workflow import audit_task

    s = _settings(None, home)
    try:
        report = audit_task(task, home=s.home, threshold=threshold)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"Audited {report.n} labels: {len(report.suspects)} suspect, "
        f"{len(report.conflicts)} conflicting groups."
    )
    for rid, label, p in report.suspects:
        typer.echo(f"  suspect {rid}: label {label} has p={p:.3f}")
    for group in report.conflicts:
        typer.echo(f"  conflict: {', '.join(group)}")
