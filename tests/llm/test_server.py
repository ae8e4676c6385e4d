"""Which model server `cinerec model-server` starts, and with what (no server is started here;
tests/llm/backends/test_openai_server.py runs a real one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cinerec.cli.main import app
from cinerec.errors import LLMError
from cinerec.llm.server import (
    SCHEMA_FORMATS,
    ServerSpec,
    built_llama_server,
    llama_server_binary,
    server_command,
)

GGUF = Path("model.gguf")


def _fake_llama_server(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / "llama-server"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


def test_llama_server_gets_its_slots_and_a_context_per_slot(tmp_path: Path) -> None:
    binary = _fake_llama_server(tmp_path)
    spec = ServerSpec(GGUF, "m", port=9, parallel=4, n_ctx=2048, binary=str(binary))
    command, runtime = server_command(spec)
    assert runtime == "llama-server" and command[0] == str(binary)
    args = dict(zip(command[1::2], command[2::2], strict=False))
    assert args["--parallel"] == "4" and args["--ctx-size"] == str(4 * 2048)
    assert args["--model"] == "model.gguf" and args["--alias"] == "m" and args["--port"] == "9"


def test_without_llama_server_the_python_server_runs_and_is_not_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    spec = ServerSpec(GGUF, "m", parallel=4, cache_dir=tmp_path)
    command, runtime = server_command(spec)
    assert runtime == "python" and command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    assert command[command.index("--interrupt_requests") + 1] == "False"
    assert SCHEMA_FORMATS[runtime] == "json_object"
    with pytest.raises(LLMError, match="build it with scripts/build-llama-server.sh"):
        server_command(ServerSpec(GGUF, "m", runtime="llama-server", cache_dir=tmp_path))


def test_the_llama_server_the_build_script_installed_is_found_after_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/build-llama-server.sh installs into <cache dir>/bin; PATH still comes first."""
    cache = tmp_path / "cache"
    on_path = _fake_llama_server(tmp_path / "on-path")
    monkeypatch.setenv("PATH", "")
    assert llama_server_binary(cache_dir=cache) is None
    built = _fake_llama_server(cache / "bin")
    assert built == built_llama_server(cache)
    command, runtime = server_command(ServerSpec(GGUF, "m", cache_dir=cache))
    assert runtime == "llama-server" and command[0] == str(built)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert llama_server_binary(cache_dir=cache) == str(on_path)
    built.chmod(0o644)  # not executable: not a server
    monkeypatch.setenv("PATH", "")
    assert llama_server_binary(cache_dir=cache) is None


def test_the_default_cache_dir_is_the_build_scripts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    built = _fake_llama_server(tmp_path / "cinerec" / "bin")
    assert llama_server_binary() == str(built)


def test_cli_dry_run_prints_the_command_and_the_web_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    binary = _fake_llama_server(tmp_path)
    args = ["model-server", "--model", str(gguf), "--port", "8088", "--parallel", "3"]
    result = CliRunner().invoke(app, [*args, "--binary", str(binary), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{binary} --model {gguf}" in result.output
    assert "CINEREC_OPENAI_BASE_URL=http://127.0.0.1:8088/v1" in result.output
    assert "CINEREC_LLM_SLOTS=1" in result.output  # a CPU server: one call at a time
    assert "CINEREC_OPENAI_SCHEMA_FORMAT=json_schema" in result.output


def test_cli_with_a_missing_model_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["model-server", "--model", str(tmp_path / "no.gguf")])
    assert result.exit_code == 2 and "No model file" in result.output
