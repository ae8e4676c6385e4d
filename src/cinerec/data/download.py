"""Fetch the MovieLens archives from GroupLens into the cache and verify every file.

The layout matches the shared data directory (``ml-latest-small/ratings.csv``,
``ml-100k/u.data`` ...), so :func:`cinerec.data.paths.resolve_data_dir` finds it. Only the
files listed in :data:`ARCHIVES` are extracted, each checked against its published sha256.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

from cinerec.data.fingerprint import sha256_file
from cinerec.data.paths import cache_data_dir
from cinerec.errors import ConfigError, DataError

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
RERUN_HINT = "delete it and re-run `cinerec ingest --download`"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Archive:
    """One downloadable zip: its URL and the files taken from it.

    ``files`` maps a path relative to the data directory, which is also the member's path in
    the zip, to its sha256.
    """

    name: str
    url: str
    files: Mapping[str, str]


# sha256 values copied from the data set's SHA256SUMS (same format). The READMEs are not
# extracted: the shared ml-100k README is a newer revision than some copies of the zip.
_SHA256SUMS = """\
06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490  ml-100k/u.data
9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb  ml-100k/u.genre
5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b  ml-100k/u.info
553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701  ml-100k/u.item
cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d  ml-100k/u.occupation
f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c  ml-100k/u.user
ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a  ml-100k/u1.base
18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950  ml-100k/u1.test
6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e  ml-100k/u2.base
4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3  ml-100k/u2.test
afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d  ml-100k/u3.base
0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d  ml-100k/u3.test
219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca  ml-100k/u4.base
7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9  ml-100k/u4.test
a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485  ml-100k/u5.base
351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634  ml-100k/u5.test
67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2  ml-100k/ua.base
d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42  ml-100k/ua.test
237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881  ml-100k/ub.base
d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da  ml-100k/ub.test
97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31  ml-latest-small/links.csv
5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07  ml-latest-small/movies.csv
aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646  ml-latest-small/ratings.csv
92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d  ml-latest-small/tags.csv
"""


def _files(folder: str) -> dict[str, str]:
    pairs = (line.split(maxsplit=1) for line in _SHA256SUMS.splitlines() if line.strip())
    return {path: digest for digest, path in pairs if path.startswith(f"{folder}/")}


ARCHIVES: dict[str, Archive] = {
    name: Archive(name=name, url=f"{GROUPLENS}/{name}.zip", files=_files(name))
    for name in ("ml-latest-small", "ml-100k")
}


def verify_archive(archive: Archive, data_dir: Path) -> bool:
    """True when every file of ``archive`` is present under ``data_dir``.

    Raises:
        DataError: a present file does not match its sha256 (naming it and what to do).
    """
    complete = True
    for relative, expected in archive.files.items():
        path = data_dir / relative
        if not path.is_file():
            complete = False
            continue
        _check(path, sha256_file(path), expected)
    return complete


def _check(path: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise DataError(
            f"Data file {path} has sha256 {actual[:12]}…, expected {expected[:12]}…; {RERUN_HINT}."
        )


def _fetch(url: str, target: Path, client: httpx.Client, progress: bool) -> None:
    """Stream ``url`` into ``target`` with a progress bar."""
    try:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            total = int(response.headers.get("Content-Length", 0)) or None
            with (
                target.open("wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=url.rsplit("/", 1)[-1],
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise DataError(
            f"Could not download {url} ({exc}); check the network connection and re-run "
            "`cinerec ingest --download`, or set CINEREC_DATA_DIR to a directory holding the data."
        ) from exc


def _member(zf: zipfile.ZipFile, relative: str) -> zipfile.ZipInfo:
    """The zip member for ``relative``, also when the zip has no top-level folder."""
    names = {info.filename: info for info in zf.infolist()}
    for candidate in (relative, relative.split("/", 1)[-1]):
        if candidate in names:
            return names[candidate]
    raise DataError(
        f"Archive {zf.filename} has no member {relative}; the published archive changed, so "
        "download and unzip it by hand and set CINEREC_DATA_DIR."
    )


def _extract(zip_path: Path, archive: Archive, data_dir: Path) -> None:
    """Extract and verify every file of ``archive``; each file is replaced atomically."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for relative, expected in archive.files.items():
                dest = data_dir / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
                try:
                    with zf.open(_member(zf, relative)) as src, os.fdopen(fd, "wb") as out:
                        while chunk := src.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                    os.replace(tmp_name, dest)
                finally:
                    if os.path.exists(tmp_name):
                        os.unlink(tmp_name)
                _check(dest, digest.hexdigest(), expected)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise DataError(
            f"Downloaded archive for {archive.name} is not a valid zip ({exc}); "
            "re-run `cinerec ingest --download`."
        ) from exc
    except OSError as exc:
        raise DataError(
            f"Cannot write {archive.name} into {data_dir} ({exc}); free some space or choose "
            "another directory with --data-dir."
        ) from exc


def download_archive(
    archive: Archive,
    data_dir: Path,
    *,
    client: httpx.Client | None = None,
    force: bool = False,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> Path:
    """Download ``archive`` into ``data_dir`` unless its files are already there and valid.

    Args:
        archive: what to fetch.
        data_dir: where its files go (``data_dir/<relative path>``).
        client: an httpx client to use (tests, proxies); one is made otherwise.
        force: download even when every file is present.
        progress: show a tqdm progress bar on stderr.
        timeout_s: network timeout per operation when this function makes the client.

    Returns:
        ``data_dir``.

    Raises:
        DataError: the download failed, the zip is corrupt, or a file's sha256 does not match
            (the message names the file and says to delete it and re-run).
    """
    data_dir = Path(data_dir)
    if not force and verify_archive(archive, data_dir):
        return data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=timeout_s)
    fd, zip_name = tempfile.mkstemp(dir=data_dir, prefix=f".{archive.name}.", suffix=".zip.part")
    os.close(fd)
    try:
        _fetch(archive.url, Path(zip_name), http, progress)
        _extract(Path(zip_name), archive, data_dir)
    finally:
        Path(zip_name).unlink(missing_ok=True)
        if own_client:
            http.close()
    return data_dir


def download_dataset(
    name: str,
    *,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    client: httpx.Client | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Download one MovieLens data set by name (``"ml-latest-small"`` or ``"ml-100k"``).

    Files go to ``data_dir``, by default ``<cache_dir>/data`` (see
    :func:`cinerec.data.paths.cache_data_dir`), which :func:`resolve_data_dir` falls back to.

    Example:
        >>> download_dataset("ml-latest-small")  # doctest: +SKIP
        PosixPath('/home/me/.cache/cinerec/data')
    """
    if name not in ARCHIVES:
        raise ConfigError(f"No download for data set {name!r}; choose one of {sorted(ARCHIVES)}.")
    target = Path(data_dir) if data_dir is not None else cache_data_dir(cache_dir)
    return download_archive(ARCHIVES[name], target, client=client, force=force, progress=progress)
