"""``python -m cinerec.cli``: the same as the ``cinerec`` command."""

from cinerec.cli.main import app

app()
