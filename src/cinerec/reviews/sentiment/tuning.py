"""Hyper-parameter search for the fine-tuned sentiment model with Ray Tune's ASHA scheduler.

The search space is the one the review-model work settled on: learning rate log-uniform in
``[5e-6, 1e-3]``, batch size 8 / 16 / 32, gradient accumulation 1 / 2, at most ``max_epochs``
(<= 5) epochs with early stopping after ``patience`` (2) epochs without progress. Every trial
reports validation accuracy after each epoch; ASHA stops the weaker half of the trials at each
rung (``grace_period`` epochs, then doubling).

The same call runs on one machine (``address=None`` starts a local Ray) and unchanged on a
cluster (``address="auto"`` or ``RAY_ADDRESS``); each trial asks for ``cpus_per_trial`` CPUs.
Tune on a validation split only: the test split is for the final number.

Example:
    >>> result = asha_search(train, validation, SearchConfig(num_samples=8))  # doctest: +SKIP
    >>> result.table.to_markdown()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from cinerec.errors import ConfigError, ModelError
from cinerec.reviews.transformer import (
    TransformerClassifier,
    TransformerConfig,
)

INSTALL_HINT = "it comes with the 'tune' extra: pip install -e '.[tune]'"
METRIC = "val_accuracy"
TABLE_COLUMNS = [
    "trial",
    "learning_rate",
    "batch_size",
    "grad_accumulation",
    "epochs_run",
    "val_accuracy",
    "best_val_accuracy",
    "seconds",
]


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """How wide and how long the search is.

    Attributes:
        num_samples: trials drawn from the space.
        max_epochs: ASHA's ``max_t``: epochs of the longest trial (<= 5).
        grace_period: epochs every trial gets before it can be stopped.
        reduction_factor: ASHA keeps ``1 / reduction_factor`` of the trials at each rung.
        lr_range: log-uniform learning-rate bounds.
        batch_sizes: batch sizes to choose from.
        grad_accumulations: gradient-accumulation steps to choose from.
        patience: in-trial early stopping (epochs without a better validation accuracy).
        cpus_per_trial: CPUs Ray reserves per trial (also the trial's torch threads).
        seed: the search's sampling seed.
        base: the other model knobs, shared by every trial.
    """

    num_samples: int = 8
    max_epochs: int = 5
    grace_period: int = 1
    reduction_factor: int = 2
    lr_range: tuple[float, float] = (5e-6, 1e-3)
    batch_sizes: tuple[int, ...] = (8, 16, 32)
    grad_accumulations: tuple[int, ...] = (1, 2)
    patience: int = 2
    cpus_per_trial: int = 2
    seed: int = 0
    base: TransformerConfig = field(default_factory=TransformerConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.max_epochs <= 5:
            raise ConfigError(f"max_epochs must be 1..5, got {self.max_epochs}.")
        if self.num_samples < 1 or self.grace_period < 1 or self.reduction_factor < 2:
            raise ConfigError("Need num_samples >= 1, grace_period >= 1, reduction_factor >= 2.")
        low, high = self.lr_range
        if not 0 < low < high < 1:
            raise ConfigError(f"lr_range must satisfy 0 < low < high < 1, got {self.lr_range}.")


@dataclass(frozen=True)
class SearchResult:
    """The trials' table (one row per trial, best first), the search's time and its logs."""

    table: pd.DataFrame
    seconds: float
    storage: Path

    @property
    def best(self) -> dict[str, Any]:
        """The best trial's row: its settings and scores."""
        return self.table.iloc[0].to_dict()


def _trial(
    params: dict[str, Any],
    *,
    base: dict[str, Any],
    train: tuple[list[str], list[Any]],
    validation: tuple[list[str], list[Any]],
) -> None:
    from ray import tune

    config = TransformerConfig(
        **{
            **base,
            "learning_rate": float(params["learning_rate"]),
            "batch_size": int(params["batch_size"]),
            "grad_accumulation": int(params["grad_accumulation"]),
        }
    )
    TransformerClassifier(config).fit(
        train[0], train[1], validation=validation, on_epoch=lambda scores: tune.report(scores)
    )


def asha_search(
    train: tuple[Sequence[str], Sequence[Any]],
    validation: tuple[Sequence[str], Sequence[Any]],
    config: SearchConfig | None = None,
    *,
    storage: Path,
    address: str | None = None,
    name: str = "sentiment-asha",
) -> SearchResult:
    """Run the search; ``storage`` is where Ray keeps trial logs (made absolute).

    Raises:
        ModelError: Ray Tune is not installed, or every trial failed.
    """
    try:
        import ray
        from ray import tune
        from ray.tune.schedulers import ASHAScheduler
    except ImportError as exc:
        raise ModelError(f"Ray Tune is not installed; {INSTALL_HINT}") from exc

    config = config or SearchConfig()
    base = asdict(
        replace(
            config.base,
            epochs=config.max_epochs,
            patience=config.patience,
            threads=config.cpus_per_trial,
        )
    )
    storage = Path(storage).resolve()
    storage.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    address = address or os.environ.get("RAY_ADDRESS")
    own = not ray.is_initialized()
    if own:
        ray.init(
            address=address,
            num_cpus=None if address else max(config.cpus_per_trial, os.cpu_count() or 1),
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        space = {
            "learning_rate": tune.loguniform(*config.lr_range),
            "batch_size": tune.choice(list(config.batch_sizes)),
            "grad_accumulation": tune.choice(list(config.grad_accumulations)),
        }
        trainable = tune.with_resources(
            tune.with_parameters(
                _trial,
                base=base,
                train=(list(train[0]), list(train[1])),
                validation=(list(validation[0]), list(validation[1])),
            ),
            {"cpu": config.cpus_per_trial},
        )
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="max",
                num_samples=config.num_samples,
                scheduler=ASHAScheduler(
                    time_attr="training_iteration",
                    max_t=config.max_epochs,
                    grace_period=config.grace_period,
                    reduction_factor=config.reduction_factor,
                ),
                search_alg=tune.search.BasicVariantGenerator(random_state=config.seed),
            ),
            run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=0),
        )
        grid = tuner.fit()
    finally:
        if own:
            ray.shutdown()
    table = _table(grid)
    if table.empty or table["best_val_accuracy"].isna().all():
        errors = [str(r.error) for r in grid if r.error is not None][:3]
        raise ModelError(f"Every tuning trial failed: {errors}")
    return SearchResult(table, time.perf_counter() - started, storage / name)


def _table(grid: Any) -> pd.DataFrame:
    rows = []
    for i, result in enumerate(grid):
        history = result.metrics_dataframe
        if history is None or METRIC not in getattr(history, "columns", []):
            continue
        params = result.config
        rows.append(
            {
                "trial": i,
                "learning_rate": float(params["learning_rate"]),
                "batch_size": int(params["batch_size"]),
                "grad_accumulation": int(params["grad_accumulation"]),
                "epochs_run": len(history),
                "val_accuracy": float(history[METRIC].iloc[-1]),
                "best_val_accuracy": float(history[METRIC].max()),
                "seconds": float(history.get("time_total_s", pd.Series([math.nan])).iloc[-1]),
            }
        )
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return frame.sort_values("best_val_accuracy", ascending=False).reset_index(drop=True)


def table_markdown(table: pd.DataFrame) -> str:
    """The trials' table as Markdown, best trial first."""
    lines = [
        "| " + " | ".join(TABLE_COLUMNS) + " |",
        "|" + "---|" * len(TABLE_COLUMNS),
    ]
    for row in table.itertuples(index=False):
        cells = [
            f"{row.trial}",
            f"{row.learning_rate:.2e}",
            f"{row.batch_size}",
            f"{row.grad_accumulation}",
            f"{row.epochs_run}",
            f"{row.val_accuracy:.4f}",
            f"{row.best_val_accuracy:.4f}",
            f"{row.seconds:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
