"""What ``cinerec evaluate`` does, without the CLI library (the core never imports typer).

:func:`evaluate_command` parses the command's plain arguments, runs the harness and returns
the lines to print; ``cinerec/cli/main.py`` only wires options to it.

Example:
    >>> lines = evaluate_command(protocol="loo", models="popularity,als",
    ...                          out_dir=Path("runs/loo"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cinerec.data.catalog import catalog_texts
from cinerec.data.interactions_file import ColumnMap, load_interactions_file
from cinerec.data.paths import resolve_data_dir
from cinerec.errors import ConfigError
from cinerec.evaluation.harness import HarnessOptions, ModelFactory, ModelSpec, run_evaluation
from cinerec.evaluation.protocols import PROTOCOLS, EvaluationTask, build_task, leave_one_out_task
from cinerec.recommenders.base import Recommender, TextSource, TrainingOptions, give_texts
from cinerec.recommenders.registry import build as registry_build


def _with_texts(build: ModelFactory, texts: TextSource) -> ModelFactory:
    """``build``, then the catalog's descriptions for a model that needs them (content)."""

    def make(name: str, config: Mapping[str, Any] | None) -> Recommender:
        model = build(name, config)
        give_texts(model, texts)
        return model

    return make


def parse_models(models: str, configs: str | None = None) -> list[ModelSpec]:
    """``"popularity,als"`` (+ optional JSON ``{"als": {"factors": 32}}``) -> model specs.

    A name may carry a label after ``=``, so one model can run twice with different configs:
    ``"als,als=als-small"`` with ``{"als-small": {"factors": 16}}``.

    Raises:
        ConfigError: no model named, or ``configs`` is not a JSON object of objects.
    """
    try:
        overrides: dict[str, Any] = json.loads(configs) if configs else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--configs is not valid JSON ({exc}); pass e.g. '{{\"als\": {{}}}}'"
        ) from None
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise ConfigError('--configs must map model names to objects, e.g. {"ease": {}}')
    specs = []
    for token in (t.strip() for t in models.split(",")):
        if not token:
            continue
        name, _, label = token.partition("=")
        key = label or name
        specs.append(ModelSpec(name, overrides.get(key, {}), label or None))
    if not specs:
        raise ConfigError("Name at least one model, e.g. --models popularity,als")
    return specs


def _task(
    protocol: str,
    *,
    dataset: str | None,
    data_dir: Path | None,
    seed: int,
    interactions: Path | None,
    file_format: str | None,
    columns: ColumnMap | None,
) -> EvaluationTask:
    if interactions is None:
        return build_task(protocol, resolve_data_dir(data_dir), dataset=dataset, seed=seed)
    if protocol != "loo" or dataset is not None:
        raise ConfigError(
            "--interactions runs the leave-one-out protocol on your file; "
            "drop --protocol/--dataset or use --protocol loo"
        )
    frame = load_interactions_file(interactions, file_format=file_format, columns=columns).frame
    return leave_one_out_task(frame, dataset=interactions.name)


def evaluate_command(
    *,
    protocol: str,
    models: str,
    out_dir: Path,
    dataset: str | None = None,
    data_dir: Path | None = None,
    configs: str | None = None,
    seed: int = 42,
    threads: int = 2,
    resamples: int = 1000,
    max_users: int | None = None,
    build: ModelFactory | None = None,
    interactions: Path | None = None,
    file_format: str | None = None,
    columns: ColumnMap | None = None,
    taste_cache: Path | None = None,
) -> list[str]:
    """Run ``models`` on ``protocol`` and write the result, per-user arrays and report.

    With ``interactions`` (a file of the user's own, read by
    :func:`cinerec.data.interactions_file.load_interactions_file` with ``file_format`` and
    ``columns``), the leave-one-out protocol runs on that file instead of MovieLens.

    Returns:
        Lines for the terminal: one per model and result part with NDCG@10 and recall@10
        (95 % bootstrap intervals), a line per missing optional extra (e.g. matplotlib for
        the plot), then where the report is.

    Raises:
        ConfigError: unknown protocol, data set or model, malformed ``configs``, or a protocol
            other than ``loo`` with ``interactions``.
        DataError: the data files are missing, or the interaction file is malformed (the
            message names the line).
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"Unknown protocol {protocol!r}; choose one of {list(PROTOCOLS)}")
    specs = parse_models(models, configs)
    if protocol == "newviewer" and interactions is None:
        return newviewer_command(
            [s.name for s in specs],
            configs={s.name: dict(s.config) for s in specs if s.config},
            out_dir=out_dir,
            dataset=dataset,
            data_dir=data_dir,
            seed=seed,
            threads=threads,
            resamples=resamples,
            max_users=max_users,
            taste_cache=taste_cache,
        )
    task = _task(
        protocol,
        dataset=dataset,
        data_dir=data_dir,
        seed=seed,
        interactions=interactions,
        file_format=file_format,
        columns=columns,
    )
    options = HarnessOptions(
        resamples=resamples,
        training=TrainingOptions(seed=seed, threads=threads),
        max_users=max_users,
    )
    root = resolve_data_dir(data_dir)
    result = run_evaluation(
        task,
        specs,
        out_dir=out_dir,
        options=options,
        build=_with_texts(build or registry_build, lambda: catalog_texts(root, task.dataset)),
    )
    lines = []
    for key, model in result["models"].items():
        for part, scores in model["results"].items():
            ndcg, recall = scores["ndcg@10"], scores["recall@10"]
            lines.append(
                f"{key:<14} {part:<10} NDCG@10 {ndcg['mean']:.4f} "
                f"[{ndcg['low']:.4f}, {ndcg['high']:.4f}]  R@10 {recall['mean']:.4f} "
                f"[{recall['low']:.4f}, {recall['high']:.4f}]  fit {model['fit_seconds']:.1f} s"
            )
    lines.extend(result.get("notes", []))
    lines.append(f"Report: {out_dir / 'report.md'}")
    return lines


def newviewer_command(
    models: list[str],
    *,
    out_dir: Path,
    dataset: str | None,
    data_dir: Path | None,
    seed: int,
    threads: int,
    resamples: int,
    max_users: int | None,
    taste_cache: Path | None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """The newviewer side-by-side run (:mod:`cinerec.evaluation.newviewer_run`): ``models``
    names the retrievers on the ticks (``ltr`` and the page pipelines always run); returns the
    lines to print. ``configs`` holds registry settings per name: a retriever's (e.g.
    ``{"sasrec": {"epochs": 6}}``) and the ranker's under ``ltr`` (e.g. its ``families`` and
    ``taste_pool``).

    Raises:
        ConfigError: a model that is not a newviewer retriever.
    """
    from cinerec.data.catalog import load_catalog
    from cinerec.data.movielens import ML_LATEST_SMALL, load_ratings
    from cinerec.evaluation.newviewer import newviewer_data
    from cinerec.evaluation.newviewer_report import write_newviewer
    from cinerec.evaluation.newviewer_run import RETRIEVERS, NewViewerOptions, run_newviewer
    from cinerec.llm.taste import TasteCache
    from cinerec.recommenders.registry import make_config

    unknown = [m for m in models if m not in (*RETRIEVERS, "ltr")]
    if unknown:
        raise ConfigError(
            f"newviewer runs the retrievers {list(RETRIEVERS)} (+ ltr); not {unknown}"
        )
    name = dataset or ML_LATEST_SMALL
    ranker = make_config("ltr", {"dataset": name, **dict((configs or {}).get("ltr", {}))})
    retriever_configs = {k: v for k, v in (configs or {}).items() if k != "ltr"}
    for key, values in retriever_configs.items():
        make_config(key, values)  # a wrong setting fails before the data load
    root = resolve_data_dir(data_dir)
    catalog = load_catalog(root, name)
    data = newviewer_data(load_ratings(root, name).frame, catalog, dataset=name, seed=seed)
    options = NewViewerOptions(
        retrievers=tuple(m for m in models if m != "ltr"),
        ranker=ranker,
        retriever_configs=retriever_configs,
        resamples=resamples,
        seed=seed,
        threads=threads,
        max_users=max_users,
        taste_cache=TasteCache(taste_cache) if taste_cache else None,
    )
    result, arrays = run_newviewer(data, catalog, options)
    lines = write_newviewer(result, arrays, out_dir)
    for key, sets in result["table"].items():
        for part in ("k=3/popular/en", "k=10/popular/en"):
            if part in sets:
                ndcg = sets[part]["ndcg@10"]
                lines.insert(
                    0,
                    f"{key:<16} {part:<16} NDCG@10 {ndcg['mean']:.4f} "
                    f"[{ndcg['low']:.4f}, {ndcg['high']:.4f}]",
                )
    lines.append(f"Report: {out_dir / 'report.md'}")
    return lines
