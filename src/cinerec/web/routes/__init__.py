"""cinerec.web.routes."""
