"""cinerec.text."""
