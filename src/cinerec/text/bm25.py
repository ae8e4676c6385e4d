"""Okapi BM25 over a small corpus, with tokenisation that works for English and Korean.

Latin-script text is split into words (case- and accent-folded, possessive and plural ``s``
stripped, a few stop words dropped); runs of Hangul become character bigrams (a lone syllable
stays a unigram), because Korean particles attach to nouns: ``감독은`` and ``감독이`` share the
bigram ``감독``. The index is one ``scipy.sparse`` matrix of precomputed BM25 weights, so a
query is a sparse row lookup and a sum.

Example:
    >>> index = BM25Index.build([1, 2], ["Memento, a thriller by Christopher Nolan",
    ...                                  "봉준호 감독의 기생충"])
    >>> [i for i, _ in index.search("nolan thriller")]
    [1]
    >>> [i for i, _ in index.search("봉준호 감독")]
    [2]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cinerec.errors import ModelError
from cinerec.text.lang import HANGUL, HANGUL_RUN

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

#: English words too common to help a search (kept short: BM25's idf handles the rest).
STOP_WORDS = frozenset(
    "a an and are as at be but by do does did for from has have how i in is it its me my of "
    "on or so than that the their them then there these they this to was were what when where "
    "which who whom whose why will with you your".split()
)


def fold(text: str) -> str:
    """NFKC, case-folded, accents removed (``Amélie`` -> ``amelie``); Hangul is kept whole."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFD splits Hangul syllables into jamo; compose them back.
    return unicodedata.normalize("NFC", stripped)


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


def tokenize(text: str, *, stop_words: Collection[str] = STOP_WORDS) -> list[str]:
    """Search tokens: folded Latin words and Hangul character bigrams.

    Example:
        >>> tokenize("The Director's films: 크리스토퍼 놀란 감독")
        ['director', 'film', '크리', '리스', '스토', '토퍼', '놀란', '감독']
    """
    tokens: list[str] = []
    for word in _WORD.findall(fold(text).replace("'", "").replace("’", "")):
        if not HANGUL.search(word):
            if word not in stop_words:
                tokens.append(_stem(word))
            continue
        pos = 0
        for run in HANGUL_RUN.finditer(word):
            rest = word[pos : run.start()]
            if rest and rest not in stop_words:
                tokens.append(_stem(rest))
            syllables = run.group(0)
            if len(syllables) == 1:
                tokens.append(syllables)
            else:
                tokens.extend(syllables[i : i + 2] for i in range(len(syllables) - 1))
            pos = run.end()
        if word[pos:] and word[pos:] not in stop_words:
            tokens.append(_stem(word[pos:]))
    return tokens


@dataclass(frozen=True, slots=True)
class BM25Config:
    """BM25 parameters: ``k1`` (term-frequency saturation) and ``b`` (length normalisation)."""

    k1: float = 1.2
    b: float = 0.75


class BM25Index:
    """Documents (by external id) searchable with BM25.

    Build with :meth:`build`; :meth:`search` returns ``(id, score)`` pairs, best first, only
    for documents sharing at least one token with the query.
    """

    def __init__(
        self,
        ids: Sequence[int],
        weights: sp.csc_matrix,
        vocabulary: dict[str, int],
        config: BM25Config,
    ) -> None:
        self.ids = np.asarray(list(ids), dtype=np.int64)
        self.weights = weights
        self.vocabulary = vocabulary
        self.config = config

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: Sequence[int],
        texts: Sequence[str] | None = None,
        *,
        tokens: Sequence[Sequence[str]] | None = None,
        config: BM25Config | None = None,
    ) -> BM25Index:
        """Index ``texts`` (tokenised with :func:`tokenize`) or pre-tokenised ``tokens``.

        Raises:
            ModelError: ids and documents differ in number, or ids repeat.
        """
        config = config or BM25Config()
        docs = [tokenize(t) for t in texts] if tokens is None else [list(t) for t in tokens]
        if len(docs) != len(ids):
            raise ModelError(f"BM25 needs one document per id; got {len(ids)} ids, {len(docs)}.")
        if len(set(ids)) != len(ids):
            raise ModelError("BM25 needs distinct document ids; de-duplicate the catalog first.")
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for row, doc in enumerate(docs):
            for token in doc:
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
        n_docs, n_terms = len(docs), len(vocabulary)
        counts = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(n_docs, max(n_terms, 1))
        )
        counts.sum_duplicates()
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = counts.data
        row_of = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        norm = config.k1 * (1.0 - config.b + config.b * lengths[row_of] / avg)
        weights = counts.copy()
        weights.data = (idf[counts.indices] * tf * (config.k1 + 1.0) / (tf + norm)).astype(
            np.float32
        )
        return cls(ids, weights.tocsc(), vocabulary, config)

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 score of every document for ``query`` (a text or its tokens)."""
        terms = tokenize(query) if isinstance(query, str) else list(query)
        columns = [self.vocabulary[t] for t in terms if t in self.vocabulary]
        if not columns:
            return np.zeros(len(self.ids), np.float32)
        picked = self.weights[:, columns]
        return np.asarray(picked.sum(axis=1)).ravel()

    def search(
        self, query: str | Sequence[str], k: int = 10, exclude: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """The ``k`` best documents with a positive score, ``(id, score)``, best first."""
        if k < 1 or not len(self.ids):
            return []
        scores = self.scores(query)
        if exclude:
            scores = scores.copy()
            scores[np.isin(self.ids, np.fromiter(exclude, dtype=np.int64))] = 0.0
        positive = int(np.count_nonzero(scores > 0))
        k = min(k, positive)
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((self.ids[top], -scores[top]))]
        return [(int(self.ids[i]), float(scores[i])) for i in top]
