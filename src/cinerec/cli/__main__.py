"""``python -m cinerec.cli``: the same as the ``cinerec`` command."""

from cinerec.cli.main import app

if __name__ == "__main__":  # pragma: no cover
    app()
