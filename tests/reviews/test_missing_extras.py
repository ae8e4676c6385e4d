"""The review-model commands past ``train`` without their extras: one line naming the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cinerec.errors import ModelError


def test_finetune_without_transformers_names_the_finetune_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cinerec.reviews.transformer import TransformerClassifier, TransformerConfig

    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ModelError) as info:
        TransformerClassifier(TransformerConfig())._load_base(2)
    message = str(info.value)
    assert "'finetune' extra: pip install -e '.[finetune]'" in message
    assert "\n" not in message


def test_tune_without_ray_names_the_tune_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cinerec.reviews.sentiment.tuning import asha_search

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ModelError, match=r"'tune' extra: pip install -e '\.\[tune\]'"):
        asha_search((["a"], [0]), (["b"], [1]), storage=tmp_path)
