"""cinerec: movie recommendations where classical recommenders and a language model work together."""

__version__ = "0.1.0"
