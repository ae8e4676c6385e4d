"""``evaluate_command``: argument parsing, errors, and one real run (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cinerec.errors import ConfigError
from cinerec.evaluation.commands import evaluate_command, parse_models


def test_parse_models_with_labels_and_configs() -> None:
    specs = parse_models("popularity, als,als=als-small", '{"als-small": {"factors": 8}}')
    assert [(s.name, s.key, dict(s.config)) for s in specs] == [
        ("popularity", "popularity", {}),
        ("als", "als", {}),
        ("als", "als-small", {"factors": 8}),
    ]


@pytest.mark.parametrize(
    ("models", "configs", "message"),
    [("", None, "at least one model"), ("als", "{bad", "not valid JSON"), ("als", "[1]", "map")],
)
def test_parse_models_errors(models: str, configs: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_models(models, configs)


def test_unknown_protocol_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown protocol"):
        evaluate_command(protocol="kfold", models="popularity", out_dir=tmp_path)


@pytest.mark.slow
def test_real_ml100k_run(real_data_dir: Path, tmp_path: Path) -> None:
    lines = evaluate_command(
        protocol="ml100k",
        models="popularity",
        out_dir=tmp_path,
        data_dir=real_data_dir,
        resamples=100,
        threads=1,
    )
    assert lines[0].startswith("popularity") and "NDCG@10" in lines[0]
    result = json.loads((tmp_path / "result.json").read_text())
    scores = result["models"]["popularity"]["results"]["test"]
    assert scores["users"] > 900
    # Most-popular on ua with train positives excluded: P@10 about 0.10, AUC about 0.86.
    assert 0.05 < scores["precision@10"]["mean"] < 0.2
    assert 0.8 < scores["auc"]["mean"] < 0.95


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ('{"ltr": {"families": ["nope"]}}', "families must be some of"),
        ('{"sasrec": {"epochs": 0}}', "epochs must be >= 1"),
        ('{"ltr": {"taste_pools": 5}}', "Unknown setting"),
    ],
)
def test_newviewer_settings_are_checked_before_the_data_load(
    tmp_path: Path, configs: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate_command(
            protocol="newviewer",
            models="popularity,sasrec,ltr",
            out_dir=tmp_path / "out",
            configs=configs,
            data_dir=tmp_path / "no-data-here",
        )
