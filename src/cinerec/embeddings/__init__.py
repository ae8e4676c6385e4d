"""Sentence embeddings of movie descriptions and taste queries.

One :class:`~cinerec.embeddings.base.Embedder` protocol, one module per backend, an
explicit registry, an on-disk cache keyed by model and text hash, a top-k index and
co-preference fine-tuning of the trainable MiniLM.
"""
