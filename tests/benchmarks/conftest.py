"""The benchmark helpers' tests share the review tests' tiny BERT (benchmarks/semeval.py)."""

from tests.reviews.conftest import tiny_encoder  # noqa: F401 - a fixture, used by name
