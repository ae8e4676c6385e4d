"""A tiny BERT (random weights, MiniLM's real tokenizer) so fine-tuning tests take seconds."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT saved with the shipped MiniLM tokenizer."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from cinerec.text.sentiment.transformer import shipped_model_dir

    out = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(shipped_model_dir()))
    tokenizer.save_pretrained(out)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    transformers.set_seed(0)
    transformers.BertModel(config).save_pretrained(out)
    return out
