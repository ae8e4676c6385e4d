"""cinerec.web."""
