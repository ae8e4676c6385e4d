"""The downloader against a local HTTP server serving a tiny zip."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from cinerec.data import download
from cinerec.data.download import Archive, download_archive, download_dataset, verify_archive
from cinerec.data.movielens import load_ratings
from cinerec.errors import ConfigError, DataError

RATINGS = b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,3.0,964982704\n"
MOVIES = b"movieId,title,genres\n1,Toy Story (1995),Animation\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTP server on 127.0.0.1 serving ``root``; yields (base URL, root, requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(_Quiet):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _archive(base: str, *, ratings_sha: str | None = None) -> Archive:
    return Archive(
        name="ml-latest-small",
        url=f"{base}/ml-latest-small.zip",
        files={
            "ml-latest-small/ratings.csv": ratings_sha or _sha(RATINGS),
            "ml-latest-small/movies.csv": _sha(MOVIES),
        },
    )


def _serve_zip(root: Path) -> None:
    (root / "ml-latest-small.zip").write_bytes(
        _zip(
            {
                "ml-latest-small/ratings.csv": RATINGS,
                "ml-latest-small/movies.csv": MOVIES,
                "ml-latest-small/README.txt": b"not extracted",
            }
        )
    )


def test_download_extract_verify(server, tmp_path: Path) -> None:
    base, root, requests = server
    _serve_zip(root)
    data_dir = tmp_path / "cache" / "data"
    assert download_archive(_archive(base), data_dir, progress=False) == data_dir
    assert (data_dir / "ml-latest-small" / "ratings.csv").read_bytes() == RATINGS
    assert not (data_dir / "ml-latest-small" / "README.txt").exists()
    assert [p.name for p in data_dir.iterdir()] == ["ml-latest-small"]  # no temp files left
    assert len(load_ratings(data_dir)) == 2
    assert verify_archive(_archive(base), data_dir)

    # Present and valid: no second request.
    download_archive(_archive(base), data_dir, progress=False)
    assert requests == ["/ml-latest-small.zip"]
    download_archive(_archive(base), data_dir, progress=False, force=True)
    assert len(requests) == 2


def test_download_dataset_uses_table_and_cache(server, tmp_path: Path, monkeypatch) -> None:
    base, root, _ = server
    _serve_zip(root)
    monkeypatch.setitem(download.ARCHIVES, "ml-latest-small", _archive(base))
    out = download_dataset("ml-latest-small", cache_dir=tmp_path / "c", progress=False)
    assert out == tmp_path / "c" / "data"
    assert (out / "ml-latest-small" / "movies.csv").read_bytes() == MOVIES
    with pytest.raises(ConfigError, match="ml-1m"):
        download_dataset("ml-1m", cache_dir=tmp_path / "c")


def test_checksum_mismatch(server, tmp_path: Path) -> None:
    base, root, _ = server
    _serve_zip(root)
    data_dir = tmp_path / "data"
    with pytest.raises(DataError) as err:
        download_archive(_archive(base, ratings_sha="0" * 64), data_dir, progress=False)
    message = str(err.value)
    assert "ratings.csv" in message
    assert "delete it and re-run `cinerec ingest --download`" in message


def test_corrupt_existing_file_detected_without_network(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "ml-latest-small").mkdir(parents=True)
    (data_dir / "ml-latest-small" / "ratings.csv").write_bytes(RATINGS + b"tampered")
    (data_dir / "ml-latest-small" / "movies.csv").write_bytes(MOVIES)
    archive = _archive("http://127.0.0.1:9")  # nothing listens: must not be contacted
    with pytest.raises(DataError, match=r"ratings\.csv has sha256 .*delete it and re-run"):
        download_archive(archive, data_dir, progress=False)


def test_not_a_zip(server, tmp_path: Path) -> None:
    base, root, _ = server
    (root / "ml-latest-small.zip").write_bytes(b"<html>Not found</html>")
    with pytest.raises(DataError, match="not a valid zip"):
        download_archive(_archive(base), tmp_path / "data", progress=False)
    assert list((tmp_path / "data").iterdir()) == []  # temp zip removed


def test_http_error(server, tmp_path: Path) -> None:
    base, _, _ = server  # nothing served: 404
    with pytest.raises(DataError, match=r"Could not download .*ml-latest-small\.zip"):
        download_archive(_archive(base), tmp_path / "data", progress=False)


def test_member_missing(server, tmp_path: Path) -> None:
    base, root, _ = server
    (root / "ml-latest-small.zip").write_bytes(_zip({"ml-latest-small/ratings.csv": RATINGS}))
    with pytest.raises(DataError, match=r"no member ml-latest-small/movies\.csv"):
        download_archive(_archive(base), tmp_path / "data", progress=False)


def test_table_matches_published_names() -> None:
    assert download.ARCHIVES["ml-latest-small"].url == (
        "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
    )
    assert len(download.ARCHIVES["ml-100k"].files) == 20
    assert download.ARCHIVES["ml-latest-small"].files["ml-latest-small/ratings.csv"] == (
        "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"
    )
