"""What every ``cinerec`` subcommand module shares: settings from the common options, the data
directory they resolve to, and the one way a command reports a :class:`CinerecError`."""

from __future__ import annotations

from pathlib import Path

import typer

from cinerec.config import Settings
from cinerec.errors import CinerecError


def settings_from(data_dir: Path | None = None, home: Path | None = None, **kw: object) -> Settings:
    """Settings with the options that were given (None leaves the environment's value)."""
    overrides = {
        k: v for k, v in {"data_dir": data_dir, "home": home, **kw}.items() if v is not None
    }
    return Settings(**overrides)  # type: ignore[arg-type]


def data_dir_of(settings: Settings) -> Path:
    """The data directory the settings resolve to (option, CINEREC_DATA_DIR, ../shared/data,
    then the user cache)."""
    from cinerec.data.paths import resolve_data_dir

    return resolve_data_dir(settings.data_dir, cache_dir=settings.cache_dir)


def fail(exc: CinerecError) -> typer.Exit:
    """Print the error in red on stderr; the command raises the returned exit (code 2)."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)
