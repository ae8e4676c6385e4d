"""ONNX export and int8 quantization of the fine-tuned sentiment model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.errors import ModelError
from cinerec.reviews.sentiment.onnx_serving import (
    INT8_FILE,
    OnnxSentimentModel,
    export_onnx,
    quantize_int8,
)
from cinerec.reviews.transformer import (
    TransformerClassifier,
    TransformerConfig,
)

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")


@pytest.fixture(scope="module")
def exported(
    tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TransformerClassifier, Path, list[str]]:
    from tests.reviews.conftest import _corpus

    texts, labels = _corpus(120, seed=3)
    config = TransformerConfig(
        base_model=str(tiny_encoder),
        max_tokens=32,
        head_tokens=16,
        learning_rate=3e-3,
        epochs=4,
        threads=1,
    )
    model = TransformerClassifier(config).fit(texts, labels)
    out = model.save(tmp_path_factory.mktemp("onnx") / "m")
    export_onnx(model, out)
    quantize_int8(out)
    return model, out, texts


def test_fp32_onnx_matches_torch(exported: tuple) -> None:
    model, out, texts = exported
    onnx = OnnxSentimentModel.load(out, quantized=False, threads=1)
    # mixed lengths in one batch: padding must not change a text's probabilities
    probe = texts[:20] + ["a much longer review " * 8]
    assert np.allclose(onnx.predict_proba(probe), model.predict_proba(probe), atol=1e-4)
    assert onnx.classes_.tolist() == [0, 1]


def test_int8_is_smaller_and_agrees(exported: tuple) -> None:
    model, out, texts = exported
    assert (out / INT8_FILE).stat().st_size < (out / "model.onnx").stat().st_size / 2
    int8 = OnnxSentimentModel.load(out, quantized=True, threads=1)
    agree = (int8.predict(texts) == model.predict(texts)).mean()
    assert agree >= 0.9
    assert int8.predict_proba([]).shape == (0, 2)


def test_missing_export_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="No exported model"):
        OnnxSentimentModel.load(tmp_path)
    with pytest.raises(ModelError, match="export_onnx first"):
        quantize_int8(tmp_path)


def test_multi_label_pairs_export_uses_sigmoids(tiny_encoder: Path, tmp_path: Path) -> None:
    texts = [(f"it was {w}", a) for w in ("tasty", "rude") for a in ("food", "service")] * 10
    y = np.array([[int(t[0].endswith("tasty")), int(t[1] == "service")] for t in texts])
    config = TransformerConfig(
        base_model=str(tiny_encoder), max_tokens=24, head_tokens=8, epochs=2, threads=1
    )
    model = TransformerClassifier(config).fit(texts, y, label_names=["a", "b"])
    out = model.save(tmp_path / "m")
    export_onnx(model, out)
    onnx = OnnxSentimentModel.load(out, quantized=False, threads=1)
    assert np.allclose(onnx.predict_proba(texts), model.predict_proba(texts), atol=1e-4)
    assert onnx.predict(texts).shape == (40, 2)
