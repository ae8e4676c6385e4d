"""cinerec: movie recommendations from trained recommenders and a language model."""

__version__ = "0.1.0"
