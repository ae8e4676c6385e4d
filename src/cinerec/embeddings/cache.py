"""On-disk embedding cache keyed by model name and the sha256 of each text.

Layout: ``<root>/<model name>/shard-<n>.npz``, each shard holding ``keys`` (sha256 hex of the
text, as fixed-width bytes) and ``vectors`` (float32). A call embeds only the texts whose
hash is not stored yet and writes them as one new shard, so a changed description (new hash)
is recomputed and an unchanged one never is. :meth:`EmbeddingCache.compact` rewrites a model's
shards keeping only the texts still in use.

Example:
    >>> cache = EmbeddingCache(tmp_dir)  # doctest: +SKIP
    >>> vectors = cache.embed(embedder, ["Heat (1995). Genres: Crime."])  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cinerec.embeddings.base import Embedder
from cinerec.errors import DataError

if TYPE_CHECKING:
    from cinerec.llm.backends.cancel import CancelToken

SHARD_ROWS = 4096
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
Progress = Callable[[int, int], None]
"""Called with (texts embedded so far, texts to embed) after each batch."""


def text_key(text: str) -> str:
    """sha256 hex digest of the UTF-8 text (the cache key of one text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors of texts per model, on disk; safe to share between threads of one process."""

    def __init__(self, root: Path, *, batch_size: int = 256) -> None:
        self.root = Path(root)
        self.batch_size = batch_size
        self._memory: dict[str, dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()

    def model_dir(self, model_name: str) -> Path:
        """Directory of one model's shards."""
        return self.root / _SAFE.sub("_", model_name)

    def _stored(self, model_name: str, dim: int) -> dict[str, np.ndarray]:
        if model_name in self._memory:
            return self._memory[model_name]
        stored: dict[str, np.ndarray] = {}
        for shard in sorted(self.model_dir(model_name).glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as npz:
                    keys, vectors = npz["keys"], npz["vectors"]
            except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
                raise DataError(
                    f"Embedding cache shard {shard} is corrupt ({exc}); delete it to recompute"
                ) from exc
            if vectors.ndim != 2 or vectors.shape[1] != dim or len(keys) != len(vectors):
                raise DataError(
                    f"Embedding cache shard {shard} has shape {vectors.shape}, expected "
                    f"(*, {dim}); delete {self.model_dir(model_name)} to recompute"
                )
            for key, vector in zip(keys.astype(str), vectors, strict=True):
                stored[str(key)] = vector
        self._memory[model_name] = stored
        return stored

    def _write_shard(self, model_name: str, keys: list[str], vectors: np.ndarray) -> None:
        directory = self.model_dir(model_name)
        directory.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem.split("-")[1]) for p in directory.glob("shard-*.npz")]
        start = max(numbers, default=-1) + 1
        for offset, begin in enumerate(range(0, len(keys), SHARD_ROWS)):
            end = begin + SHARD_ROWS
            path = directory / f"shard-{start + offset:06d}.npz"
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp.npz")
            os.close(fd)
            np.savez(tmp, keys=np.asarray(keys[begin:end], dtype="S64"), vectors=vectors[begin:end])
            os.replace(tmp, path)  # readers never see half a shard

    def missing(self, embedder: Embedder, texts: Sequence[str]) -> list[str]:
        """The distinct texts of ``texts`` that are not cached for ``embedder`` yet."""
        with self._lock:
            stored = self._stored(embedder.name, embedder.dim)
            return [t for t in dict.fromkeys(texts) if text_key(t) not in stored]

    def add(self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray) -> int:
        """Store vectors computed elsewhere (e.g. by a batch job) for ``texts``; texts already
        cached are skipped. Returns how many were stored.

        Raises:
            DataError: ``vectors`` is not ``(len(texts), embedder.dim)``.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(texts), embedder.dim):
            raise DataError(
                f"{len(texts)} texts need vectors of shape ({len(texts)}, {embedder.dim}), "
                f"got {vectors.shape}"
            )
        with self._lock:
            stored = self._stored(embedder.name, embedder.dim)
            new = {}
            for text, vector in zip(texts, vectors, strict=True):
                key = text_key(text)
                if key not in stored:
                    new[key] = vector
            if new:
                self._write_shard(embedder.name, list(new), np.stack(list(new.values())))
                stored.update(new)
            return len(new)

    def embed(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        *,
        progress: Progress | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """``(len(texts), dim)`` vectors, computing (and storing) only the uncached texts.

        Args:
            embedder: the model; its ``name`` is the cache namespace.
            texts: passages to embed (duplicates are embedded once).
            progress: optional callback after each batch of new texts.
            cancel: checked before each batch; once cancelled, the batches already embedded
                are stored (the next call embeds only the rest) and
                :class:`~cinerec.llm.backends.cancel.Cancelled` is raised.
        """
        keys = [text_key(t) for t in texts]
        with self._lock:
            stored = self._stored(embedder.name, embedder.dim)
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in stored}
            if todo:
                new_keys, new_texts = list(todo), list(todo.values())
                parts: list[np.ndarray] = []
                for begin in range(0, len(new_texts), self.batch_size):
                    if cancel is not None and cancel.cancelled:
                        self._keep(embedder.name, stored, new_keys[:begin], parts)
                        cancel.check(f"Embedding {len(new_texts)} texts ({begin} done)")
                    parts.append(
                        embedder.embed_passages(new_texts[begin : begin + self.batch_size])
                    )
                    if progress is not None:
                        progress(min(begin + self.batch_size, len(new_texts)), len(new_texts))
                self._keep(embedder.name, stored, new_keys, parts)
            if not keys:
                return np.zeros((0, embedder.dim), np.float32)
            return np.stack([stored[k] for k in keys]).astype(np.float32, copy=False)

    def _keep(
        self, name: str, stored: dict[str, np.ndarray], keys: list[str], parts: list[np.ndarray]
    ) -> None:
        """Write the vectors of ``keys`` (the rows of ``parts``) as a new shard and remember
        them (nothing when there are none)."""
        if not keys:
            return
        vectors = np.vstack(parts).astype(np.float32)
        self._write_shard(name, keys, vectors)
        stored.update(zip(keys, vectors, strict=True))

    def compact(self, embedder: Embedder, keep: Sequence[str]) -> int:
        """Rewrite ``embedder``'s shards with only the texts in ``keep``; returns rows dropped."""
        with self._lock:
            stored = self._stored(embedder.name, embedder.dim)
            wanted = {text_key(t) for t in keep}
            kept = [k for k in stored if k in wanted]
            dropped = len(stored) - len(kept)
            old = sorted(self.model_dir(embedder.name).glob("shard-*.npz"))
            if kept:
                self._write_shard(
                    embedder.name, kept, np.stack([stored[k] for k in kept]).astype(np.float32)
                )
            for path in old:
                path.unlink()
            self._memory[embedder.name] = {k: stored[k] for k in kept}
            return dropped
