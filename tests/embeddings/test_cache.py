from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinerec.embeddings.cache import EmbeddingCache, text_key
from cinerec.errors import DataError

from .fakes import HashingEmbedder

TEXTS = ["Heat (1995). Genres: Crime.", "Alien (1979). Genres: Horror, Sci-Fi.", "Up (2009)."]


def test_embeds_once_and_reuses_across_instances(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    first = EmbeddingCache(tmp_path).embed(embedder, TEXTS)
    assert embedder.calls == TEXTS
    again = EmbeddingCache(tmp_path).embed(embedder, TEXTS)  # a new process reads the shards
    assert embedder.calls == TEXTS  # nothing recomputed
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32 and first.shape == (3, embedder.dim)


def test_only_changed_texts_are_recomputed(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    EmbeddingCache(tmp_path).embed(embedder, TEXTS)
    changed = [TEXTS[0], "Alien (1979). Genres: Horror, Sci-Fi. In space.", TEXTS[2]]
    vectors = EmbeddingCache(tmp_path).embed(embedder, changed)
    assert embedder.calls[len(TEXTS) :] == [changed[1]]
    np.testing.assert_allclose(vectors, embedder.embed_passages(changed), atol=1e-6)


def test_models_do_not_share_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    a, b = HashingEmbedder("model-a"), HashingEmbedder("model-b", dim=32)
    cache.embed(a, TEXTS)
    assert cache.embed(b, TEXTS).shape == (3, 32)
    assert b.calls == TEXTS
    assert {p.name for p in tmp_path.iterdir()} == {"model-a", "model-b"}


def test_duplicates_embedded_once_and_order_kept(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    vectors = EmbeddingCache(tmp_path).embed(embedder, [TEXTS[1], TEXTS[0], TEXTS[1]])
    assert embedder.calls == [TEXTS[1], TEXTS[0]]
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert EmbeddingCache(tmp_path).embed(embedder, []).shape == (0, embedder.dim)


def test_missing_and_progress(tmp_path: Path) -> None:
    embedder, cache = HashingEmbedder(), EmbeddingCache(tmp_path, batch_size=2)
    assert cache.missing(embedder, TEXTS) == TEXTS
    seen: list[tuple[int, int]] = []
    cache.embed(embedder, TEXTS, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]
    assert cache.missing(embedder, [*TEXTS, "new"]) == ["new"]


def test_compact_keeps_only_texts_in_use(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    EmbeddingCache(tmp_path).embed(embedder, TEXTS)
    EmbeddingCache(tmp_path).embed(embedder, ["another"])
    cache = EmbeddingCache(tmp_path)
    assert cache.compact(embedder, TEXTS[:2]) == 2
    assert len(list(cache.model_dir(embedder.name).glob("shard-*.npz"))) == 1
    assert EmbeddingCache(tmp_path).missing(embedder, TEXTS) == [TEXTS[2]]


def test_corrupt_shard_says_delete_it(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    EmbeddingCache(tmp_path).embed(embedder, TEXTS)
    shard = next((tmp_path / embedder.name).glob("shard-*.npz"))
    shard.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="delete it"):
        EmbeddingCache(tmp_path).embed(embedder, TEXTS)


def test_text_key_is_sha256() -> None:
    assert text_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_add_stores_vectors_computed_elsewhere_once(tmp_path: Path) -> None:
    model = HashingEmbedder()
    texts = ["a", "b"]
    vectors = model.embed_passages(texts)
    assert EmbeddingCache(tmp_path).add(model, texts, vectors) == 2
    assert EmbeddingCache(tmp_path).add(model, texts, vectors) == 0  # already there
    again = EmbeddingCache(tmp_path)
    assert again.missing(model, ["a", "b", "c"]) == ["c"]
    np.testing.assert_allclose(again.embed(model, ["b"])[0], vectors[1])
    with pytest.raises(DataError, match="shape"):
        again.add(model, ["c"], vectors)


def test_a_cancelled_build_keeps_the_batches_done_and_embeds_only_the_rest(
    tmp_path: Path,
) -> None:
    from cinerec.llm.backends.cancel import Cancelled, CancelToken

    texts = [f"Film {i} (20{i:02d}). Genres: Drama." for i in range(10)]
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 4:  # cancelled after the second batch of two
            token.cancel("the job was cancelled")

    embedder = HashingEmbedder()
    cache = EmbeddingCache(tmp_path, batch_size=2)
    with pytest.raises(Cancelled, match="4 done"):
        cache.embed(embedder, texts, progress=progress, cancel=token)
    assert embedder.calls == texts[:4]  # no batch after the cancel
    again = HashingEmbedder()
    vectors = EmbeddingCache(tmp_path, batch_size=2).embed(again, texts, cancel=CancelToken())
    assert again.calls == texts[4:]  # the first four were stored before it stopped
    np.testing.assert_array_equal(vectors, HashingEmbedder().embed_passages(texts))
