"""One module per runtime; ``registry.py`` builds the configured one."""
