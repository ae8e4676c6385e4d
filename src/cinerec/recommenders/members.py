"""The single recommenders, by name: what an ensemble is made of, and the registry's base.

:mod:`cinerec.recommenders.registry` adds the ensemble (``blend``) to :data:`MEMBERS`; the
functions here take the catalog to look in, so both share one lookup, config and build.

Example:
    >>> model = build("als", {"factors": 32})
    >>> model.name, model.config.factors
    ('als', 32)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any, cast

from cinerec.errors import ConfigError
from cinerec.ranking.ranker import LearnedRanker, LearnedRankerConfig
from cinerec.recommenders.als import ALSConfig, ALSRecommender
from cinerec.recommenders.base import Recommender
from cinerec.recommenders.bert4rec import BERT4RecConfig, BERT4RecRecommender
from cinerec.recommenders.bpr import BPRConfig, BPRRecommender
from cinerec.recommenders.content import ContentConfig, ContentRecommender
from cinerec.recommenders.ease import EASEConfig, EASERecommender
from cinerec.recommenders.hybrid import HybridConfig, HybridRecommender
from cinerec.recommenders.popularity import PopularityConfig, PopularityRecommender
from cinerec.recommenders.sasrec import SASRecConfig, SASRecRecommender

Catalog = Mapping[str, tuple[type[Any], type[Recommender]]]
"""Name -> (config class, recommender class)."""

MEMBERS: dict[str, tuple[type[Any], type[Recommender]]] = {
    "popularity": (PopularityConfig, PopularityRecommender),
    "als": (ALSConfig, ALSRecommender),
    "ease": (EASEConfig, EASERecommender),
    "bpr": (BPRConfig, BPRRecommender),
    "content": (ContentConfig, ContentRecommender),  # needs the `embeddings` extra
    "sasrec": (SASRecConfig, SASRecRecommender),  # needs the `sequential` extra (torch)
    "bert4rec": (BERT4RecConfig, BERT4RecRecommender),  # needs the `sequential` extra (torch)
    "hybrid": (HybridConfig, HybridRecommender),  # user/item features; trains with torch
    "ltr": (LearnedRankerConfig, LearnedRanker),  # LightGBM second stage; reads the statement
}
"""Every recommender but the ensemble: name -> (config class, recommender class)."""


def _lookup(name: str, catalog: Catalog) -> tuple[type[Any], type[Recommender]]:
    try:
        return catalog[name]
    except KeyError:
        valid = ", ".join(sorted(catalog))
        raise ConfigError(f"Unknown recommender {name!r}; choose one of: {valid}") from None


def make_config(
    name: str, values: Mapping[str, Any] | None = None, catalog: Catalog = MEMBERS
) -> Any:
    """Build the typed config of recommender ``name`` of ``catalog`` from plain values (JSON).

    Raises:
        ConfigError: unknown recommender, unknown field or invalid value.
    """
    config_cls, _ = _lookup(name, catalog)
    values = dict(values or {})
    known = {f.name for f in fields(config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"Unknown setting(s) {unknown} for recommender {name!r}; valid: {sorted(known)}"
        )
    try:
        return config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid settings for recommender {name!r}: {exc}") from exc


def build(
    name: str, config: object | Mapping[str, Any] | None = None, catalog: Catalog = MEMBERS
) -> Recommender:
    """A fresh, untrained recommender ``name`` of ``catalog`` with ``config`` (its config object
    or a dict).

    Raises:
        ConfigError: unknown name (the message lists the valid ones) or a config of the wrong
            type.
    """
    config_cls, model_cls = _lookup(name, catalog)
    if config is None or isinstance(config, Mapping):
        config = make_config(name, config, catalog)
    elif not isinstance(config, config_cls):
        got = type(config).__name__ if is_dataclass(config) else repr(config)
        raise ConfigError(
            f"Recommender {name!r} takes a {config_cls.__name__} or a dict, not {got}"
        )
    # Every registered class takes its config as the one constructor argument.
    model = cast(Callable[[Any], Recommender], model_cls)(config)
    return model
