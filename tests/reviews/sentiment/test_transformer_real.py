"""The real thing: the shipped MiniLM fine-tuned on real IMDB reviews, exported, quantized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


def test_cli_finetunes_the_real_minilm_and_exports_int8(
    real_data_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    from cinerec.data.reviews import load_imdb
    from cinerec.reviews.sentiment.onnx_serving import OnnxSentimentModel
    from cinerec.reviews.transformer import TransformerClassifier
    from tests.cli.test_reviews import _app

    home = tmp_path / "home"
    args = ["--data-dir", str(real_data_dir), "--home", str(home), "--limit", "320"]
    args += ["--eval-limit", "100", "--epochs", "2", "--max-tokens", "96", "--threads", "2"]
    args += ["--learning-rate", "1e-4"]
    result = CliRunner().invoke(_app(), ["reviews", "finetune", "imdb", *args])
    assert result.exit_code == 0, result.output
    assert "test_accuracy" in result.output and "model.int8.onnx" in result.output
    directory = home / "artifacts" / "reviews" / "imdb-minilm"
    model = TransformerClassifier.load(directory, threads=2)
    scores = model.metadata["scores"]
    # 40 steps on 320 reviews already beat a coin on held-out movies
    assert scores["test_accuracy"]["mean"] >= 0.6, scores
    reviews = load_imdb(real_data_dir, splits=("test",), limit=40)
    texts = reviews["text"].tolist()
    torch_p = model.predict_proba(texts)[:, 1]
    int8_p = OnnxSentimentModel.load(directory, quantized=True).predict_proba(texts)[:, 1]
    fp32_p = OnnxSentimentModel.load(directory, quantized=False).predict_proba(texts)[:, 1]
    assert np.abs(fp32_p - torch_p).max() < 1e-3
    assert ((int8_p > 0.5) == (torch_p > 0.5)).mean() >= 0.9
