"""deploy/compose.yaml and deploy/Procfile: every cinerec command in them is one the CLI takes.

Each command line is parsed by the CLI's own click parser (options, their values and types),
without running it. Commands added by branches not merged yet are strict xfails naming the
branch: they must start passing, and lose their mark, when that branch is merged.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from cinerec.cli.main import app

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
PROCFILE = REPO / "deploy" / "Procfile"


def _compose_commands() -> dict[str, list[str]]:
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    found = {}
    for name, service in services.items():
        command = service.get("command")
        if command is None:
            continue
        found[f"compose:{name}"] = command if isinstance(command, list) else shlex.split(command)
    return found


_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _procfile_commands() -> dict[str, list[str]]:
    found = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, command = line.split(":", 1)
        found[f"procfile:{name.strip()}"] = shlex.split(_DEFAULT.sub(r"\2", command))
    return found


def _cases() -> list[object]:
    cases = []
    for key, argv in {**_compose_commands(), **_procfile_commands()}.items():
        cases.append(pytest.param(argv, id=key))
    return cases


class NotInCli(Exception):
    """A command line the CLI would refuse (unknown command, option or value)."""


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors its own click: match click's UsageError family by name, in either copy
    return any(c.__name__ == "UsageError" for c in type(exc).__mro__)


def check_command(argv: list[str]) -> object:
    """Resolve ``argv`` (``cinerec …``) through the CLI's groups and parse its options with the
    CLI's own parser, as running it would; returns the command.

    Raises:
        NotInCli: an unknown command, option or value.
    """
    assert argv[0] == "cinerec", f"{argv!r} is not a cinerec command"
    command = typer.main.get_command(app)
    args = list(argv[1:])
    while hasattr(command, "commands"):  # a group: the next word names a subcommand
        if not args or args[0].startswith("-"):
            raise NotInCli(f"{argv!r} names no subcommand of {sorted(command.commands)}")
        name = args.pop(0)
        if name not in command.commands:
            raise NotInCli(f"cinerec has no command {name!r} (in {argv!r})")
        command = command.commands[name]
    try:
        command.make_context(argv[-1], args)  # parses every option and value
    except Exception as exc:
        if _is_usage_error(exc):
            raise NotInCli(f"{argv!r}: {exc}") from exc
        raise
    return command


def test_the_files_name_the_roles() -> None:
    compose = {k.split(":")[1] for k in _compose_commands()}
    assert {"web", "worker", "model", "ingest", "train"} <= compose
    assert {"procfile:web", "procfile:worker", "procfile:model"} <= set(_procfile_commands())
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["postgres"]["image"].startswith("pgvector/pgvector")
    assert services["redis"]["image"].startswith("redis")


@pytest.mark.parametrize("argv", _cases())
def test_every_command_exists_in_the_cli(argv: list[str]) -> None:
    check_command(argv)


def test_the_check_rejects_unknown_commands_and_options() -> None:
    check_command(["cinerec", "serve", "--workers", "2"])
    check_command(["cinerec", "batch", "reviews", "--workers", "1", "--address", "auto"])
    for wrong in (
        ["cinerec", "serve", "--no-such-option"],
        ["cinerec", "no-such-command"],
        ["cinerec", "serve", "--workers", "many"],
        ["cinerec", "serve", "--workers", "0"],
        ["cinerec", "batch", "reviews", "--address"],  # needs a value
        ["cinerec", "batch"],
    ):
        with pytest.raises(NotInCli):
            check_command(wrong)
