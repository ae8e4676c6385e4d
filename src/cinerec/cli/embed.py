"""``cinerec embed build`` and ``cinerec embed finetune``.

Wired into the main CLI with ``app.add_typer(embed_app, name="embed")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cinerec.cli.common import fail as _fail
from cinerec.cli.common import settings_from as _settings
from cinerec.errors import CinerecError

embed_app = typer.Typer(add_completion=False, help="Description embeddings: build, fine-tune.")

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data sets directory.")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="State directory.")]


@embed_app.command("build")
def build(
    home: HomeOpt = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder name (default: the configured one).")
    ] = None,
    refresh: Annotated[bool, typer.Option(help="Rebuild the in-memory index.")] = False,
) -> None:
    """Embed every catalog description in the database (only new or changed ones are computed)."""
    from tqdm import tqdm

    from cinerec.embeddings.registry import build_embedder
    from cinerec.services.platform import Platform
    from cinerec.services.similar import catalog_index

    bar = tqdm(total=0, unit="text", desc="embedding", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        platform = Platform(_settings(None, home))
        model = build_embedder(embedder) if embedder else None
        index = catalog_index(platform, embedder=model, refresh=refresh, progress=progress)
    except CinerecError as exc:
        raise _fail(exc) from None
    finally:
        bar.close()
    typer.echo(
        f"{len(index.ids):,} movies embedded with {index.embedder.name} "
        f"({index.index.kind} index) in {index.build_seconds:.1f} s"
    )


@embed_app.command("finetune")
def finetune(
    out: Annotated[
        Path | None, typer.Option(help="Model directory (default: <home>/artifacts/minilm-cf).")
    ] = None,
    data_dir: DataDirOpt = None,
    home: HomeOpt = None,
    max_pairs: Annotated[int, typer.Option(help="Co-preference pairs to train on.")] = 2000,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 32,
    max_seq_tokens: Annotated[int, typer.Option(help="Word pieces read per text.")] = 128,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
    seed: int = 42,
) -> None:
    """Fine-tune MiniLM on pairs of movies liked by the same users (training split only)."""
    from tqdm import tqdm

    from cinerec.data.catalog import load_catalog
    from cinerec.data.movielens import load_ratings
    from cinerec.data.paths import resolve_data_dir
    from cinerec.embeddings.finetune import (
        FinetuneConfig,
        co_preference_pairs,
        finetune_minilm,
    )
    from cinerec.evaluation.splits import llamarec_leave_one_out

    settings = _settings(data_dir, home)
    target = out or settings.artifacts_dir / "minilm-cf"
    try:
        config = FinetuneConfig(
            max_pairs=max_pairs,
            batch_size=batch_size,
            max_seq_tokens=max_seq_tokens,
            threads=threads,
            seed=seed,
        )
        directory = resolve_data_dir(settings.data_dir, cache_dir=settings.cache_dir)
        split = llamarec_leave_one_out(load_ratings(directory, settings.dataset).frame)
        pairs = co_preference_pairs(
            split.train, min_rating=config.min_rating, max_pairs=config.max_pairs, seed=seed
        )
        texts = {m.movie_id: m.description for m in load_catalog(directory, settings.dataset)}
        with tqdm(total=0, unit="step", desc="fine-tuning", disable=None) as bar:

            def progress(step: int, total: int, loss: float) -> None:
                bar.total = total
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")

            run = finetune_minilm(pairs, texts, target, config, progress=progress)
    except CinerecError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"Trained on {run['pairs']:,} pairs in {run['steps']} steps ({run['seconds']} s); "
        f"loss {run['loss_first_10']} -> {run['loss_last_10']}; saved to {target}"
    )
