"""The recommenders cinerec knows, by name: an explicit dict, no import-by-string.

The single models come from :data:`cinerec.recommenders.members.MEMBERS`; the ensemble
(``blend``, :mod:`cinerec.recommenders.ensemble`) is made of them and is added here, so the
ensemble never imports the registry.

Example:
    >>> model = build("als", {"factors": 32})
    >>> model.name, model.config.factors
    ('als', 32)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cinerec.recommenders import members
from cinerec.recommenders.base import Recommender
from cinerec.recommenders.ensemble import EnsembleConfig, EnsembleRecommender

RECOMMENDERS: dict[str, tuple[type[Any], type[Recommender]]] = {
    **members.MEMBERS,
    "blend": (EnsembleConfig, EnsembleRecommender),  # weighted sum of the members
}
"""Registry name -> (config class, recommender class)."""


def make_config(name: str, values: Mapping[str, Any] | None = None) -> Any:
    """Build the typed config of recommender ``name`` from plain values (e.g. JSON).

    Raises:
        ConfigError: unknown recommender, unknown field or invalid value.
    """
    return members.make_config(name, values, RECOMMENDERS)


def build(name: str, config: object | Mapping[str, Any] | None = None) -> Recommender:
    """A fresh, untrained recommender ``name`` with ``config`` (its config object or a dict).

    Raises:
        ConfigError: unknown name (the message lists the valid ones) or a config of the wrong
            type.
    """
    return members.build(name, config, RECOMMENDERS)
