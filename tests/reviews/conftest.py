"""Tiny labelled corpora written by the tests themselves, and a tiny BERT to fine-tune."""

from __future__ import annotations

from pathlib import Path

import pytest

POSITIVE = ["great", "superb", "wonderful", "brilliant", "moving"]
NEGATIVE = ["awful", "boring", "terrible", "dull", "weak"]
FILLER = ["film", "movie", "story", "cast", "scene", "night", "really", "quite"]


def _corpus(n: int, seed: int) -> tuple[list[str], list[int]]:
    import random

    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.sample(FILLER, 4) + [rng.choice(POSITIVE if label else NEGATIVE)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture
def toy_sentiment() -> tuple[list[str], list[int]]:
    """120 five-word texts: one polarity word among neutral filler; label 1 = positive."""
    return _corpus(120, seed=3)


def write_imdb_archive(root, *, per_folder: int = 30):  # noqa: ANN001, ANN201 - test helper
    """A synthetic ``imdb-aclImdb/aclImdb_v1_labeled.tar.gz`` under ``root`` (toy reviews)."""
    import io
    import tarfile

    def add(tar: tarfile.TarFile, name: str, data: str) -> None:
        raw = data.encode("utf-8")
        info = tarfile.TarInfo(name)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))

    texts, labels = _corpus(4 * per_folder, seed=5)
    folder = root / "imdb-aclImdb"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "aclImdb_v1_labeled.tar.gz", "w:gz") as tar:
        for s, split in enumerate(("test", "train")):
            for polarity in ("neg", "pos"):
                want = int(polarity == "pos")
                mine = [t for t, y in zip(texts, labels, strict=True) if y == want]
                mine = mine[s * per_folder : (s + 1) * per_folder]
                for i, text in enumerate(mine):
                    add(tar, f"aclImdb/{split}/{polarity}/{i}_{8 if want else 2}.txt", text)
                urls = "".join(
                    f"http://www.imdb.com/title/tt{1000 + i:07d}/usercomments\n"
                    for i in range(len(mine))
                )
                add(tar, f"aclImdb/{split}/urls_{polarity}.txt", urls)
    return root


@pytest.fixture
def imdb_dir(tmp_path):  # noqa: ANN001, ANN201
    """A data directory holding only a synthetic IMDB archive (30 reviews per folder)."""
    return write_imdb_archive(tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT saved with the shipped MiniLM tokenizer."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from cinerec.reviews.transformer import shipped_model_dir

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
