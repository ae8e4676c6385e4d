"""Where the data sets live: one resolution order, used by every loader's caller.

Order: an explicit path (``--data-dir`` / ``Settings.data_dir``) > the ``CINEREC_DATA_DIR``
environment variable > ``../shared/data`` next to the checkout > ``<cache dir>/data``, where
:mod:`cinerec.data.download` puts what it fetches.
"""

from __future__ import annotations

import os
from pathlib import Path

from cinerec.config import default_cache_dir
from cinerec.errors import DataError

ENV_VAR = "CINEREC_DATA_DIR"
DOWNLOAD_HINT = f"set {ENV_VAR} or run `cinerec ingest --download`"

# src/cinerec/data/paths.py -> parents[3] is the repository root in a source checkout.
_REPO_ROOT = Path(__file__).resolve().parents[3]
_SHARED_RELATIVE = Path("..") / "shared" / "data"


def shared_data_candidates() -> list[Path]:
    """The ``../shared/data`` directories tried, relative to the cwd and to the checkout."""
    candidates = [Path.cwd() / _SHARED_RELATIVE, _REPO_ROOT / _SHARED_RELATIVE]
    unique: list[Path] = []
    for c in candidates:
        resolved = c.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def cache_data_dir(cache_dir: Path | None = None) -> Path:
    """The directory the downloader fills: ``<cache_dir>/data``."""
    return (cache_dir if cache_dir is not None else default_cache_dir()) / "data"


def resolve_data_dir(explicit: Path | None = None, *, cache_dir: Path | None = None) -> Path:
    """Return the data directory to read from.

    Args:
        explicit: a directory chosen by the user; wins even when it does not exist yet (loaders
            then raise :class:`DataError` naming the missing file).
        cache_dir: cinerec's cache directory (``Settings.cache_dir``); defaults to
            :func:`cinerec.config.default_cache_dir`.

    Returns:
        ``explicit``, else ``$CINEREC_DATA_DIR``, else the first existing ``../shared/data``
        (relative to the working directory, then to the source checkout), else
        ``<cache_dir>/data``.

    Example:
        >>> resolve_data_dir(Path("/srv/data"))
        PosixPath('/srv/data')
    """
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    for candidate in shared_data_candidates():
        if candidate.is_dir():
            return candidate
    return cache_data_dir(cache_dir)


def require_file(data_dir: Path, relative: str, what_to_do: str = DOWNLOAD_HINT) -> Path:
    """Return ``data_dir / relative`` or raise :class:`DataError` naming it and what to do.

    Example:
        >>> require_file(Path("/x"), "ml-100k/u.data", "fetch it")
        Traceback (most recent call last):
        ...
        cinerec.errors.DataError: Data file /x/ml-100k/u.data is missing; fetch it.
    """
    path = Path(data_dir) / relative
    if not path.is_file():
        raise DataError(f"Data file {path} is missing; {what_to_do}.")
    return path
