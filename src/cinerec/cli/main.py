"""Command line: each command builds Settings, calls a service and prints the result."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cinerec.cli.common import fail as _fail
from cinerec.cli.common import settings_from as _settings
from cinerec.config import Settings
from cinerec.data.types import Rated
from cinerec.errors import CinerecError

app = typer.Typer(add_completion=False, help="cinerec: movie recommendations, explained.")

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data sets (default: CINEREC_DATA_DIR, ../shared/data, cache)."
    ),
]
HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="State directory (database, artifacts).")
]


InteractionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--interactions",
        help="Your own interaction file: CSV, TSV, Parquet, or 'user item' lines (SASRec style).",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", help="csv, tsv, parquet or lines (default: from the file name; else lines)."
    ),
]
UserColOpt = Annotated[str, typer.Option("--user-col", help="User id column of a table file.")]
ItemColOpt = Annotated[
    str, typer.Option("--item-col", help="Item (movie) id column; whole numbers.")
]
TimeColOpt = Annotated[
    str,
    typer.Option(
        "--time-col", help="Timestamp column (Unix seconds or ISO dates); if absent, row order."
    ),
]
RatingColOpt = Annotated[
    str, typer.Option("--rating-col", help="Rating column; if absent, every row counts once.")
]


def _columns(user: str, item: str, time: str, rating: str):  # noqa: ANN202 - lazy import
    from cinerec.data.interactions_file import ColumnMap

    return ColumnMap(user=user, item=item, time=time, rating=rating)


def _platform(settings: Settings):  # noqa: ANN202 - imported lazily to keep `--help` fast
    from cinerec.services.platform import Platform

    return Platform(settings)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def ingest(
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    download: Annotated[
        bool, typer.Option(help="Download MovieLens from GroupLens first.")
    ] = False,
) -> None:
    """Load the catalog (MovieLens + TMDB + keywords) into the database."""
    from cinerec.services.ingest import ingest as run

    try:
        report = run(_platform(_settings(data_dir, home)), download=download)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"Ingested {report.movies:,} movies and {report.ratings:,} ratings "
        f"from {report.data_dir} in {report.seconds:.1f} s"
    )


@app.command()
def train(
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    model: Annotated[
        str | None, typer.Option(help="Recommender name (default: the configured one).")
    ] = None,
    interactions: InteractionsOpt = None,
    file_format: FormatOpt = None,
    user_col: UserColOpt = "user_id",
    item_col: ItemColOpt = "item_id",
    time_col: TimeColOpt = "timestamp",
    rating_col: RatingColOpt = "rating",
) -> None:
    """Train a recommender on all ratings and store it with its config and data fingerprint.

    With --interactions, train it on your own file instead and store it under its own name
    (model@file-fingerprint); the page keeps serving the model trained on the catalog.
    """
    try:
        platform = _platform(_settings(data_dir, home))
        if interactions is None:
            from cinerec.services.ingest import train_version

            platform.migrate()
            info, published = train_version(platform, name=model)
            typer.echo(
                f"Trained {info.name} (version {info.version}) in {info.train_seconds or 0:.1f} s; "
                f"published as {info.name} v{published.version} (servers pick it up)"
            )
            return
        from cinerec.services.own_data import train_on_file

        report = train_on_file(
            platform,
            interactions,
            name=model,
            file_format=file_format,
            columns=_columns(user_col, item_col, time_col, rating_col),
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    known = "unknown" if report.catalog_items is None else f"{report.catalog_items:,}"
    typer.echo(
        f"Trained {report.info.name} (version {report.info.version}) on {report.interactions:,} "
        f"interactions of {report.users:,} users and {report.items:,} items "
        f"({known} of them catalog movies) in {report.info.train_seconds or 0:.1f} s"
    )
    typer.echo(f"Stored in {report.directory}; the page still serves its own model.")


@app.command()
def recommend(
    movie_ids: Annotated[
        str, typer.Option("--movies", help="Watched MovieLens ids, comma-separated.")
    ] = "",
    taste: Annotated[
        str, typer.Option(help="Free-text taste, e.g. 'slow-burn sci-fi, no horror'.")
    ] = "",
    n: Annotated[int, typer.Option("-n", "--n", min=1, max=50, help="How many.")] = 10,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Print candidates for a history (no language model; see the web page for reasons)."""
    from cinerec.services.recommend import recommend_for_history

    try:
        ids = [int(x) for x in movie_ids.replace(" ", "").split(",") if x]
    except ValueError:
        raise _fail(
            CinerecError("--movies takes comma-separated whole numbers, e.g. 1,260,2571.")
        ) from None
    try:
        cands = recommend_for_history(
            _platform(_settings(data_dir, home)),
            history=[Rated(i) for i in ids],
            taste_text=taste,
            n=n,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    for k, c in enumerate(cands, 1):
        typer.echo(
            f"{k:2d}. [{c.movie.movie_id}] {c.movie.display_title}  "
            f"{'|'.join(c.movie.genres)}  ({c.score:.3f})"
        )


SHUTDOWN_GRACE_S = 5
"""Seconds ``cinerec serve`` waits for open requests on SIGTERM before it closes them."""


@app.command()
def serve(
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    llm_model: Annotated[
        str | None, typer.Option(help="Embedded model name or .gguf path.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web worker processes on one port. Above 1, each worker builds its own app "
            "from the CINEREC_* variables; share the database (PostgreSQL) and the rate limits "
            "(CINEREC_RATE_LIMIT_STORAGE=redis://…) between them.",
        ),
    ] = 1,
) -> None:
    """Start the web app; on first run, ingest the data and train the default model."""
    import os

    import uvicorn

    from cinerec.services.ingest import ensure_ready
    from cinerec.web.app import create_app

    settings = _settings(data_dir, home, host=host, port=port, llm_model=llm_model)
    platform = _platform(settings)
    try:
        ensure_ready(platform, progress=True)
        if workers == 1:
            typer.echo("Loading the language model …")
            if platform.llm is not None and hasattr(platform.llm, "load"):
                platform.llm.load()
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(f"cinerec is serving on http://{settings.host}:{settings.port}")
    if workers == 1:
        uvicorn.run(
            create_app(settings, platform=platform),
            host=settings.host,
            port=settings.port,
            log_level="warning",
        )
        return
    platform.engine.dispose()  # the workers open their own connections
    given = {"data_dir": data_dir, "home": home, "host": host, "port": port, "llm_model": llm_model}
    os.environ.update({f"CINEREC_{k.upper()}": str(v) for k, v in given.items() if v is not None})
    uvicorn.run(
        "cinerec.web.app:app_from_environment",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # a stop must not wait on open browser connections or a streamed reason
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


@app.command("model-server")
def model_server(
    llm_model: Annotated[
        str | None, typer.Option("--model", help="Embedded model name or .gguf path.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    parallel: Annotated[
        int, typer.Option(help="Slots served at once (llama-server only; set CINEREC_LLM_SLOTS).")
    ] = 1,
    runtime: Annotated[
        str,
        typer.Option(
            help="auto (llama-server if found: --binary, PATH, or built by "
            "scripts/build-llama-server.sh), llama-server or python."
        ),
    ] = "auto",
    binary: Annotated[str | None, typer.Option(help="Path of llama-server.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the command, do not run it.")] = False,
) -> None:
    """Serve the embedded model over the OpenAI protocol for `CINEREC_LLM_BACKEND=openai`."""
    import subprocess

    from cinerec.llm.models import EMBEDDED_MODELS, locate_gguf
    from cinerec.llm.server import SCHEMA_FORMATS, ServerSpec, server_command

    settings = _settings(llm_model=llm_model)
    name = settings.llm_model
    try:
        path = locate_gguf(name, settings.cache_dir)
        alias = name if name in EMBEDDED_MODELS else path.stem
        spec = ServerSpec(
            path,
            alias,
            host=host,
            port=port,
            parallel=parallel,
            n_ctx=settings.llm_context,
            threads=settings.llm_threads,
            runtime=runtime,
            binary=binary,
            cache_dir=settings.cache_dir,
        )
        command, used = server_command(spec)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(" ".join(command), err=True)
    if used == "python" and parallel > 1:
        typer.echo("note: llama-cpp-python's server answers one request at a time.", err=True)
    # One call at a time per web process: this server runs on the CPU, where calls at once share
    # the same cores (4 at once made each token 6x slower on 2 cores), and the process's priority
    # gate then sends a page's first reason first. The slots keep several prompts cached and
    # serve several web processes.
    typer.echo(
        f"web: CINEREC_LLM_BACKEND=openai CINEREC_OPENAI_BASE_URL={spec.base_url} "
        f"CINEREC_OPENAI_MODEL={alias} CINEREC_LLM_SLOTS=1 "
        f"CINEREC_OPENAI_SCHEMA_FORMAT={SCHEMA_FORMATS[used]}",
        err=True,
    )
    if not dry_run:
        raise typer.Exit(subprocess.call(command))


@app.command()
def evaluate(
    protocol: Annotated[str, typer.Option(help="loo, ml100k, coldstart or newviewer")] = "loo",
    models: Annotated[str, typer.Option(help="Comma-separated, e.g. popularity,als,ease")] = (
        "popularity,als"
    ),
    out: Annotated[Path, typer.Option("--out", help="Output directory")] = Path("runs/eval"),
    dataset: Annotated[str | None, typer.Option()] = None,
    configs: Annotated[
        str | None, typer.Option(help='JSON, e.g. {"ease": {"regularization": 100}}')
    ] = None,
    seed: int = 42,
    threads: int = 2,
    data_dir: DataDirOpt = None,
    interactions: InteractionsOpt = None,
    file_format: FormatOpt = None,
    user_col: UserColOpt = "user_id",
    item_col: ItemColOpt = "item_id",
    time_col: TimeColOpt = "timestamp",
    rating_col: RatingColOpt = "rating",
    max_users: Annotated[int | None, typer.Option(help="Score at most this many users")] = None,
    taste_cache: Annotated[
        Path | None, typer.Option(help="newviewer: the language model's parses (TasteCache)")
    ] = None,
) -> None:
    """Evaluate recommenders on an offline protocol; writes result.json and report.md.

    With --interactions, the leave-one-out protocol runs on your own file.
    """
    from cinerec.evaluation.commands import evaluate_command

    try:
        lines = evaluate_command(
            protocol=protocol,
            models=models,
            out_dir=out,
            dataset=dataset,
            data_dir=data_dir,
            configs=configs,
            seed=seed,
            threads=threads,
            interactions=interactions,
            file_format=file_format,
            columns=_columns(user_col, item_col, time_col, rating_col),
            max_users=max_users,
            taste_cache=taste_cache,
        )
    except CinerecError as exc:
        raise _fail(exc) from None
    for line in lines:
        typer.echo(line)


@app.command()
def post(
    theme: Annotated[str, typer.Option(help="What the post is about, e.g. 'rainy day'.")],
    n: Annotated[int, typer.Option("-n", "--n", min=1, max=10, help="Movies in the post.")] = 5,
    out: Annotated[Path, typer.Option("--out", help="Where the JSON and PNG cards go.")] = Path(
        "posts"
    ),
    poster_dir: Annotated[
        Path | None, typer.Option("--poster-dir", help="Local posters named <movie id>.jpg/png.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="en or ko (default: the theme's).")] = None,
    model: Annotated[str | None, typer.Option(help="Embedded model name or .gguf path.")] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Write a curated post for a theme: print its JSON, save it with one PNG card per movie."""
    import json

    from cinerec.services.posts import make_post, save_post

    try:
        platform = _platform(_settings(data_dir, home, llm_model=model))
        outcome = make_post(platform, theme, n=n, language=lang)
        paths = save_post(outcome, out, poster_dir=poster_dir)
    except CinerecError as exc:
        raise _fail(exc) from None
    if outcome.post is None:
        typer.echo(json.dumps(outcome.failure, ensure_ascii=False, indent=2), err=True)
        raise _fail(CinerecError(f"no valid post for this theme; report in {paths[0]}"))
    typer.echo(json.dumps(outcome.post.model_dump(), ensure_ascii=False, indent=2))
    typer.echo(f"saved {len(paths)} files to {out}", err=True)


@app.command()
def chat(
    question: Annotated[
        str | None, typer.Argument(help="One question; without it, a small REPL (Ctrl-D ends).")
    ] = None,
    conversation: Annotated[
        int | None, typer.Option("--conversation", "-c", help="Continue this conversation id.")
    ] = None,
    lang: Annotated[str, typer.Option(help="Profile language: en or ko.")] = "en",
    taste: Annotated[str | None, typer.Option(help="Set the profile's taste text.")] = None,
    movie_ids: Annotated[
        str, typer.Option("--movies", help="Add watched MovieLens ids, comma-separated.")
    ] = "",
    embeddings: Annotated[
        bool, typer.Option(help="Build/load the description embeddings first (~1 min once).")
    ] = False,
    model: Annotated[str | None, typer.Option(help="Embedded model name or .gguf path.")] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Ask about movies in the catalog; answers stream, cite movie ids and stay grounded."""
    from cinerec.services.chat import ChatServiceConfig, run_turn, start_turn
    from cinerec.services.chat_memory import local_user
    from cinerec.services.similar import catalog_index

    platform = _platform(_settings(data_dir, home, llm_model=model))
    try:
        ids = [int(x) for x in movie_ids.replace(" ", "").split(",") if x]
        user_id = local_user(platform, language=lang, taste=taste, watched=ids)
        if embeddings:
            catalog_index(platform)
    except ValueError:
        raise _fail(CinerecError("--movies takes comma-separated whole numbers.")) from None
    except CinerecError as exc:
        raise _fail(exc) from None
    config = ChatServiceConfig(background_upkeep=False, prefill=question is None)
    while True:
        try:
            text = question if question is not None else typer.prompt(">", prompt_suffix=" ")
        except typer.Abort:  # Ctrl-D / Ctrl-C ends the REPL
            return
        try:
            state = start_turn(
                platform, user_id=user_id, message=text, conversation_id=conversation,
                config=config,
            )  # fmt: skip
            for event in run_turn(platform, state):
                if event.kind == "done":
                    done = event.data
        except CinerecError as exc:
            raise _fail(exc) from None
        conversation = done["conversation_id"]
        # The whole checked answer, once: streamed pieces printed as they came left cut
        # fragments in the transcript when checking dropped or replaced a sentence.
        typer.echo(done["answer"])
        cited = ", ".join(f"[#{m['id']}] {m['title']} ({m['year']})" for m in done["cited"])
        typer.echo(f"  cited: {cited or '-'}  flags: {', '.join(done['flags']) or '-'}", err=True)
        typer.echo(f"  conversation {conversation} · {done['model']}", err=True)
        if question is not None:
            return


@app.command()
def worker(
    threads: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 1,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Run jobs (ingest, training, review summaries, embeddings, evaluation) from the queue
    at CINEREC_BROKER_URL until Ctrl-C or SIGTERM (a running job is finished first)."""
    from cinerec.jobs.broker import run_worker

    settings = _settings(data_dir, home)
    if not settings.broker_url:
        raise _fail(CinerecError(
            "No broker: set CINEREC_BROKER_URL (redis://127.0.0.1:6379/0 or "
            "amqp://guest:guest@127.0.0.1:5672/). Without one, `cinerec serve` runs jobs itself."
        ))  # fmt: skip
    try:
        run_worker(_platform(settings), threads=threads)
    except CinerecError as exc:
        raise _fail(exc) from None


jobs_app = typer.Typer(add_completion=False, help="Background jobs: list, show, enqueue, cancel.")


@jobs_app.callback(invoke_without_command=True)
def jobs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="How many.")] = 20,
    home: HomeOpt = None,
) -> None:
    """The newest jobs: id, name, state (interrupted: running, but its worker went silent)."""
    if ctx.invoked_subcommand is not None:
        return
    platform = _platform(_settings(home=home))
    platform.migrate()
    for view in platform.jobs.list(limit=limit):
        typer.echo(_job_line(view))


def _job_line(view) -> str:  # noqa: ANN001 - a cinerec.jobs.JobView, imported lazily
    job = view.job
    when = (job.finished_at or job.heartbeat_at or job.created_at).isoformat(timespec="seconds")
    line = f"{job.id:5d}  {job.name:16s} {view.state:11s} attempts={job.attempts}  {when}"
    if job.error:
        line += f"  error: {job.error.splitlines()[0][:160]}"
    return line


@jobs_app.command("show")
def jobs_show(job_id: int, home: HomeOpt = None) -> None:
    """One job as JSON: args, state, attempts, error, result, worker, timestamps."""
    import json
    from dataclasses import asdict

    platform = _platform(_settings(home=home))
    try:
        view = platform.jobs.get(job_id)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps({**asdict(view.job), "state": view.state}, default=str, indent=2))


@jobs_app.command("enqueue")
def jobs_enqueue(
    name: Annotated[
        str, typer.Argument(help="ingest, train, review_summaries, embeddings, evaluate")
    ],  # fmt: skip
    args: Annotated[str, typer.Option("--args", help='JSON, e.g. {"name": "als"}')] = "{}",
    wait: Annotated[bool, typer.Option(help="Wait until it is done or failed.")] = False,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
) -> None:
    """Queue a job (run by `cinerec worker`, or here without a broker: then it waits)."""
    import json

    try:
        payload = json.loads(args)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise _fail(CinerecError(f"--args must be a JSON object ({exc}).")) from None
    platform = _platform(_settings(data_dir, home))
    try:
        platform.migrate()
        job_id = platform.jobs.enqueue(name, payload)
        typer.echo(f"job {job_id} queued")
        if wait or platform.jobs.in_process:  # a thread of this process: it must stay alive
            view = platform.jobs.wait(job_id, timeout_s=24 * 3600, poll_s=0.5)
            typer.echo(_job_line(view))
            if view.state != "done":
                raise typer.Exit(1)
    except CinerecError as exc:
        raise _fail(exc) from None


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: int,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for a running job to stop (0: none).")
    ] = 0,
    home: HomeOpt = None,
) -> None:
    """Cancel a job: a queued one never runs; a running one stops at its next step, in
    whichever process runs it (it shows cancelling until then). A finished job stays as it is."""
    platform = _platform(_settings(home=home))
    try:
        platform.migrate()
        view = platform.jobs.cancel(job_id)
        if wait and not view.finished:
            view = platform.jobs.wait(job_id, timeout_s=wait, poll_s=0.2)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(_job_line(view))


app.add_typer(jobs_app, name="jobs")


def _add_subcommands() -> None:
    from cinerec.cli.batch import batch_app
    from cinerec.cli.embed import embed_app
    from cinerec.cli.reviews import reviews_app

    app.add_typer(reviews_app, name="reviews", help="Review sentiment and aspects.")
    app.add_typer(embed_app, name="embed", help="Description embeddings and fine-tuning.")
    app.add_typer(batch_app, name="batch", help="Batch jobs on Ray (local or --address).")


_add_subcommands()


if __name__ == "__main__":  # pragma: no cover
    app()
