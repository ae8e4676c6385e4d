"""Build any cinerec recommender by name, including models not yet in the registry.

Benchmarks use this so that a model can be measured before it is registered; once every
model is in :mod:`cinerec.recommenders.registry`, this reduces to ``registry.build``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cinerec.recommenders.base import Recommender
from cinerec.recommenders.registry import RECOMMENDERS, build


def _extra() -> dict[str, tuple[type[Any], type[Any]]]:
    from cinerec.recommenders.bpr import BPRConfig, BPRRecommender
    from cinerec.recommenders.ease import EASEConfig, EASERecommender
    from cinerec.recommenders.sasrec import SASRecConfig, SASRecRecommender

    return {
        "ease": (EASEConfig, EASERecommender),
        "bpr": (BPRConfig, BPRRecommender),
        "sasrec": (SASRecConfig, SASRecRecommender),
    }


def build_any(name: str, config: Mapping[str, Any] | None = None) -> Recommender:
    """A fresh recommender ``name``: from the registry if it is there, else from this module."""
    if name in RECOMMENDERS:
        return build(name, config)
    config_cls, model_cls = _extra()[name]
    return model_cls(config_cls(**dict(config or {})))
