"""The explicit registry: names, configs from dicts, and errors that list the valid names."""

from __future__ import annotations

import pytest

from cinerec.errors import ConfigError
from cinerec.recommenders.als import ALSConfig, ALSRecommender
from cinerec.recommenders.popularity import PopularityConfig
from cinerec.recommenders.registry import RECOMMENDERS, build, make_config


@pytest.mark.parametrize("name", sorted(RECOMMENDERS))
def test_build_every_registered_name(name: str) -> None:
    config_cls, model_cls = RECOMMENDERS[name]
    model = build(name)
    assert isinstance(model, model_cls)
    assert model.name == name
    assert model.config == config_cls()  # type: ignore[attr-defined]


def test_build_from_dict_and_from_config() -> None:
    model = build("als", {"factors": 16, "use_ratings": False})
    assert isinstance(model, ALSRecommender)
    assert model.config == ALSConfig(factors=16, use_ratings=False)
    assert build("als", ALSConfig(factors=8)).config.factors == 8  # type: ignore[attr-defined]


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match="Unknown recommender 'lightfm'") as info:
        build("lightfm")
    for name in RECOMMENDERS:
        assert name in str(info.value)


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="factorz"):
        make_config("als", {"factorz": 3})


def test_invalid_value_is_config_error() -> None:
    with pytest.raises(ConfigError, match="factors"):
        build("als", {"factors": 0})


def test_wrong_config_type_rejected() -> None:
    with pytest.raises(ConfigError, match="ALSConfig"):
        build("als", PopularityConfig())
