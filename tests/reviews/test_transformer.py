"""The fine-tuned transformer sentiment model: encoding, training loop, persistence, errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cinerec.errors import ConfigError, ModelError
from cinerec.reviews.transformer import (
    TransformerClassifier,
    TransformerConfig,
    head_tail,
)

pytest.importorskip("torch")


def _config(encoder: Path, **kw: object) -> TransformerConfig:
    base = {
        "base_model": str(encoder),
        "max_tokens": 32,
        "head_tokens": 16,
        "learning_rate": 3e-3,
        "batch_size": 16,
        "epochs": 6,
        "threads": 1,
        "warmup_fraction": 0.05,
    }
    return TransformerConfig(**{**base, **kw})  # type: ignore[arg-type]


def test_head_tail_keeps_both_ends() -> None:
    ids = list(range(100))
    cut = head_tail(ids, budget=10, head=4)
    assert cut == [0, 1, 2, 3, 94, 95, 96, 97, 98, 99]
    assert head_tail(ids, budget=10, head=10) == list(range(10))


def test_encode_cuts_the_middle_and_adds_special_tokens(tiny_encoder: Path) -> None:
    model = TransformerClassifier(_config(tiny_encoder, max_tokens=12, head_tokens=4))
    model._load_base(2)
    long_text = "opening words " + "filler " * 200 + "closing verdict"
    (row,) = model.encode([long_text])
    tok = model.tokenizer
    assert len(row) == 12
    assert row[0] == tok.cls_token_id and row[-1] == tok.sep_token_id
    words = tok.decode(row[1:-1])
    assert words.startswith("opening words") and words.endswith("closing verdict")


def test_fit_learns_the_toy_polarity(
    tiny_encoder: Path, toy_sentiment: tuple[list[str], list[int]]
) -> None:
    texts, labels = toy_sentiment
    model = TransformerClassifier(_config(tiny_encoder)).fit(texts, labels)
    assert model.classes_.tolist() == [0, 1]
    assert (model.predict(texts) == np.array(labels)).mean() >= 0.9
    proba = model.predict_proba(texts[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_early_stopping_keeps_the_best_epoch(
    tiny_encoder: Path, toy_sentiment: tuple[list[str], list[int]]
) -> None:
    texts, labels = toy_sentiment
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 2, 40).tolist()  # labels unrelated to the texts: no steady progress
    seen: list[dict[str, float]] = []
    model = TransformerClassifier(_config(tiny_encoder, epochs=6, patience=1)).fit(
        texts, labels, validation=(texts[:40], noise), on_epoch=seen.append
    )
    h = model.history
    accs = [e["val_accuracy"] for e in h.epochs]
    assert seen == h.epochs
    assert h.best_epoch == int(np.argmax(accs)) + 1
    assert len(accs) == 6 or (h.stopped_early and len(accs) == h.best_epoch + 1)
    # the weights of the best epoch are the ones kept
    kept = (model.predict(texts[:40]) == np.array(noise)).mean()
    assert kept == pytest.approx(max(accs))


def test_gradient_accumulation_counts_optimizer_steps(
    tiny_encoder: Path, toy_sentiment: tuple[list[str], list[int]]
) -> None:
    texts, labels = toy_sentiment
    steps: list[tuple[int, int]] = []
    TransformerClassifier(_config(tiny_encoder, epochs=1, batch_size=8, grad_accumulation=2)).fit(
        texts, labels, on_step=lambda i, total, loss: steps.append((i, total))
    )
    assert steps[-1] == (math.ceil(120 / 16), math.ceil(120 / 16))
    assert len(steps) == math.ceil(120 / 16)


def test_save_and_load_give_the_same_probabilities(
    tiny_encoder: Path, toy_sentiment: tuple[list[str], list[int]], tmp_path: Path
) -> None:
    texts, labels = toy_sentiment
    model = TransformerClassifier(_config(tiny_encoder, epochs=2)).fit(texts, labels)
    model.save(tmp_path / "m", metadata={"note": "x"})
    back = TransformerClassifier.load(tmp_path / "m", threads=1)
    assert np.allclose(back.predict_proba(texts[:10]), model.predict_proba(texts[:10]), atol=1e-6)
    assert back.metadata == {"note": "x"} and back.fingerprint == model.fingerprint
    assert back.history.epochs == model.history.epochs


def test_bad_training_input_is_refused(tiny_encoder: Path) -> None:
    model = TransformerClassifier(_config(tiny_encoder))
    with pytest.raises(ModelError, match="as many labels"):
        model.fit(["a", "b"], [1])
    with pytest.raises(ModelError, match="two classes"):
        model.fit(["a", "b"], [1, 1])
    with pytest.raises(ModelError, match="not in training"):
        model.fit(["a", "b"], [0, 1], validation=(["c"], [7]))
    with pytest.raises(ModelError, match="not trained"):
        model.predict(["a"])


def test_bad_config_and_missing_model_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="head_tokens"):
        TransformerConfig(max_tokens=16, head_tokens=15)
    with pytest.raises(ConfigError, match="learning_rate"):
        TransformerConfig(learning_rate=0)
    with pytest.raises(ModelError, match="cinerec reviews finetune"):
        TransformerClassifier.load(tmp_path)
    (tmp_path / "cinerec-sentiment.json").write_text('{"kind": "other"}')
    with pytest.raises(ModelError, match="not 'sentiment-transformer'"):
        TransformerClassifier.load(tmp_path)


def test_pairs_keep_the_second_text_whole(tiny_encoder: Path) -> None:
    model = TransformerClassifier(_config(tiny_encoder, max_tokens=16, head_tokens=6))
    model._load_base(2)
    tok = model.tokenizer
    (row,) = model.encode([("word " * 50, "service")])
    assert len(row) == 16 and row[0] == tok.cls_token_id
    assert row.count(tok.sep_token_id) == 2 and row[-1] == tok.sep_token_id
    assert tok.decode(row[row.index(tok.sep_token_id) + 1 : -1]) == "service"
    with pytest.raises(ModelError, match="Mixed"):
        model.encode(["a text", ("a", "pair")])


def test_pairs_learn_which_aspect_a_word_belongs_to(tiny_encoder: Path) -> None:
    # the label depends on the pair: "tasty" is positive for food, irrelevant otherwise
    texts, labels = [], []
    for i in range(120):
        aspect = ("food", "service")[i % 2]
        word = ("tasty", "rude")[(i // 2) % 2]
        texts.append((f"the place was {word} tonight", aspect))
        labels.append(int((aspect, word) in {("food", "tasty"), ("service", "rude")}))
    model = TransformerClassifier(_config(tiny_encoder, epochs=10)).fit(texts, labels)
    assert (model.predict(texts) == np.array(labels)).mean() >= 0.9


def test_multi_label_fit_predicts_a_label_matrix(tiny_encoder: Path, tmp_path: Path) -> None:
    words = {"tasty": 0, "rude": 1, "cheap": 2}
    rng = np.random.default_rng(0)
    texts, y = [], []
    for _ in range(150):
        on = rng.integers(0, 2, 3)
        if not on.any():
            on[rng.integers(0, 3)] = 1
        texts.append(" ".join(["it was"] + [w for w, k in words.items() if on[k]]))
        y.append(on)
    y = np.array(y)
    names = list(words)
    seen: list[dict[str, float]] = []
    model = TransformerClassifier(
        # 16 epochs left it on the edge (micro accuracy 0.83 on the current install); 30 reach 1.0.
        _config(tiny_encoder, epochs=30, patience=30, learning_rate=1e-2)
    ).fit(texts, y, label_names=names, validation=(texts[:30], y[:30]), on_epoch=seen.append)
    assert model.multi_label and model.classes_.tolist() == names
    proba = model.predict_proba(texts)
    assert proba.shape == (150, 3) and not np.allclose(proba.sum(axis=1), 1.0)
    pred = model.predict(texts)
    assert set(np.unique(pred)) <= {0, 1} and (pred == y).mean() >= 0.85  # all-ones: 0.57
    assert 0 <= seen[-1]["val_accuracy"] <= 1  # micro F1
    back = TransformerClassifier.load(model.save(tmp_path / "m"), threads=1)
    assert back.multi_label and np.allclose(back.predict_proba(texts[:5]), proba[:5], atol=1e-6)
    with pytest.raises(ModelError, match="label_names"):
        TransformerClassifier(_config(tiny_encoder)).fit(texts, y)
