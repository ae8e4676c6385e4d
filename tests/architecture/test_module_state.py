"""No module-level mutable state anywhere in ``cinerec`` (the services, the language-model code,
ranking and the web above all).

The platform (:class:`cinerec.services.platform.Platform`, ``platform.state``) owns every cache,
index, lock and model; a module keeps only constants. The rule, checked on the source with
:mod:`ast` (so nothing is imported and nothing runs):

A name bound at module level (an assignment at the top of the module, also inside a top-level
``if``/``try``/``with``) is **mutable state** when

1. its value is made by a *stateful factory*: a lock or other synchronisation primitive, a
   weak container, a queue, a thread-local or an executor (:data:`STATEFUL_FACTORIES`); these
   exist only to hold or guard state;
2. its value is a mutable container (a dict, list or set display or comprehension, or a call
   of ``dict``/``list``/``set``/``defaultdict``/``OrderedDict``/``deque``/``Counter``/
   ``bytearray``) **and** some function or method of the module changes it (item assignment or
   deletion, augmented assignment, or a mutating method such as ``append``/``setdefault``/
   ``pop``): a container filled while the module is imported and only read afterwards is a
   constant;
3. its value is an instance of a class defined in the same module that is not a frozen
   dataclass, an ``Enum`` or a ``NamedTuple`` (e.g. ``CACHE = PriorCache()``);

and, beyond assignments,

4. a function declares ``global NAME`` (it rebinds module state at run time);
5. a module-level function is decorated with ``functools.lru_cache``/``functools.cache`` (a
   process-wide memo), unless :data:`ALLOWED` names it with a reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cinerec"

STATEFUL_FACTORIES = frozenset(
    {
        "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier",
        "local", "WeakKeyDictionary", "WeakValueDictionary", "WeakSet", "Queue", "SimpleQueue",
        "LifoQueue", "PriorityQueue", "ThreadPoolExecutor", "ProcessPoolExecutor",
    }
)  # fmt: skip
CONTAINER_FACTORIES = frozenset(
    {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter", "bytearray"}
)
MUTATING_METHODS = frozenset(
    {
        "append", "appendleft", "extend", "extendleft", "insert", "add", "update", "setdefault",
        "pop", "popitem", "popleft", "remove", "discard", "clear", "sort", "reverse",
        "move_to_end", "__setitem__", "__delitem__", "difference_update",
        "intersection_update", "symmetric_difference_update",
    }
)  # fmt: skip
MEMO_DECORATORS = frozenset({"lru_cache", "cache"})

ALLOWED: dict[str, str] = {
    # Memos of pure functions of read-only files (the prompt templates shipped inside the
    # package; the fonts installed on the machine): the same for every platform, never stale
    # while the process runs, so there is nothing for a platform to own.
    "llm/templates.py:load_template": "memo of a packaged prompt file",
    "services/postcard.py:find_cjk_font": "memo of the installed fonts",
    "services/postcard.py:load_font": "memo of the installed fonts",
}
"""``<path under cinerec>:<name>`` -> why it may stay. Keep this short."""


@dataclass(frozen=True)
class Finding:
    name: str
    line: int
    why: str


def _call_name(node: ast.AST) -> str | None:
    """``threading.Lock()`` -> ``Lock``; ``dict()`` -> ``dict``; anything else -> None."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_container(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return node is not None and _call_name(node) in CONTAINER_FACTORIES


def _top_level_statements(tree: ast.Module) -> list[ast.stmt]:
    """Module statements, descending into top-level if/try/with blocks (not into functions)."""
    out: list[ast.stmt] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        stmt = pending.pop(0)
        out.append(stmt)
        if isinstance(stmt, ast.If | ast.With):
            pending[:0] = [*stmt.body, *getattr(stmt, "orelse", [])]
        elif isinstance(stmt, ast.Try):
            blocks = [*stmt.body, *stmt.orelse, *stmt.finalbody]
            pending[:0] = blocks + [s for h in stmt.handlers for s in h.body]
    return out


def _bindings(stmts: list[ast.stmt]) -> dict[str, tuple[int, ast.AST | None]]:
    found: dict[str, tuple[int, ast.AST | None]] = {}
    for stmt in stmts:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = (stmt.lineno, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            found[stmt.target.id] = (stmt.lineno, stmt.value)
    return found


def _mutable_classes(stmts: list[ast.stmt]) -> set[str]:
    """Classes of the module whose instances can change (not frozen dataclasses, enums, ...)."""
    out = set()
    for stmt in stmts:
        if not isinstance(stmt, ast.ClassDef):
            continue
        bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in stmt.bases}
        if bases & {"Enum", "IntEnum", "StrEnum", "NamedTuple", "Exception", "Protocol"}:
            continue
        frozen = any(
            isinstance(d, ast.Call)
            and any(k.arg == "frozen" and ast.unparse(k.value) == "True" for k in d.keywords)
            for d in stmt.decorator_list
        )
        if not frozen:
            out.add(stmt.name)
    return out


def _root_name(node: ast.AST) -> str | None:
    """``X[1].y[2]`` -> ``X``."""
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutated_in_functions(tree: ast.Module) -> set[str]:
    """Names changed in place inside some function or method of the module."""
    out: set[str] = set()
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(func):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = list(node.targets)
            for target in targets:
                if isinstance(target, ast.Subscript | ast.Attribute) or isinstance(
                    node, ast.AugAssign
                ):
                    name = _root_name(target)
                    if name:
                        out.add(name)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MUTATING_METHODS
            ):
                name = _root_name(node.func.value)
                if name:
                    out.add(name)
    return out


def module_state(source: str) -> list[Finding]:
    """The module-level mutable state in one module's source (see the module docstring)."""
    tree = ast.parse(source)
    stmts = _top_level_statements(tree)
    bindings = _bindings(stmts)
    classes = _mutable_classes(stmts)
    mutated = _mutated_in_functions(tree)
    found: list[Finding] = []
    for name, (line, value) in bindings.items():
        if name.startswith("__") and name.endswith("__"):
            continue
        called = _call_name(value) if value is not None else None
        if called in STATEFUL_FACTORIES:
            found.append(Finding(name, line, f"{called}() at module level"))
        elif _is_container(value) and name in mutated:
            found.append(Finding(name, line, "a container that a function changes"))
        elif called in classes:
            found.append(Finding(name, line, f"an instance of the mutable class {called}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            for name in node.names:
                found.append(Finding(name, node.lineno, "rebound through `global`"))
    for stmt in stmts:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in stmt.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target).rsplit(".", 1)[-1] in MEMO_DECORATORS:
                    found.append(Finding(stmt.name, stmt.lineno, "a process-wide memo"))
    return sorted(found, key=lambda f: f.line)


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_the_checked_packages_exist() -> None:
    checked = {p.relative_to(SRC).parts[0] for p in _modules()}
    assert {"services", "llm", "ranking", "web", "db", "recommenders", "text"} <= checked


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_level_mutable_state(path: Path) -> None:
    relative = path.relative_to(SRC).as_posix()
    findings = [
        f
        for f in module_state(path.read_text(encoding="utf-8"))
        if f"{relative}:{f.name}" not in ALLOWED
    ]
    assert findings == [], (
        f"{relative} keeps module-level state; give it to the Platform (services/state.py): "
        + "; ".join(f"line {f.line} {f.name}: {f.why}" for f in findings)
    )


def test_every_allowlist_entry_still_exists() -> None:
    # A stale entry would let a new global of the same name in through the back door.
    for entry in ALLOWED:
        relative, name = entry.split(":")
        source = (SRC / relative).read_text(encoding="utf-8")
        assert name in {f.name for f in module_state(source)}, entry


# The checker itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import threading\n_LOCK = threading.Lock()\n",
        "from threading import RLock\nLOCK: RLock = RLock()\n",
        "import weakref\n_STATE = weakref.WeakKeyDictionary()\n",
        "_CACHE = {}\ndef put(k, v):\n    _CACHE[k] = v\n",
        "_SEEN: set[int] = set()\ndef see(i):\n    _SEEN.add(i)\n",
        "_ROWS = []\nclass A:\n    def f(self):\n        _ROWS.append(1)\n",
        "_N = {'a': [0]}\ndef bump():\n    _N['a'][0] += 1\n",
        "_X = {}\ndef drop(k):\n    del _X[k]\n",
        "class Cache:\n    pass\nCACHE = Cache()\n",
        "_COUNT = 0\ndef bump():\n    global _COUNT\n    _COUNT += 1\n",
        "import functools\n@functools.lru_cache(maxsize=8)\ndef load(x):\n    return x\n",
        "from functools import cache\n@cache\ndef load(x):\n    return x\n",
        "try:\n    import threading\n    _L = threading.Lock()\nexcept ImportError:\n    pass\n",
    ],
)
def test_checker_finds_a_planted_global(source: str) -> None:
    assert module_state(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import re\n_RX = re.compile('a')\n",
        "_NAMES = ('a', 'b')\n_WORDS = frozenset({'x'})\n",
        "_MAX = {'en': 48, 'ko': 96}\ndef cap(lang):\n    return _MAX[lang]\n",
        "_BY = {}\nfor k in 'ab':\n    _BY.setdefault(k, set()).add(k)\n",  # filled at import
        "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass C:\n    a: int = 1\n"
        "DEFAULT = C()\n",
        "def f():\n    cache = {}\n    cache[1] = 2\n    return cache\n",
        "class Holder:\n    def __init__(self):\n        self.items = {}\n",
    ],
)
def test_checker_passes_constants_and_local_state(source: str) -> None:
    assert module_state(source) == [], source


def test_checker_counts_a_local_of_the_same_name() -> None:
    # A known limit, pinned so that it is a decision: a function's local list named like a
    # module constant and changed in place counts as changing the constant (rename the local).
    source = "_ITEMS = []\ndef f():\n    _ITEMS = []\n    _ITEMS.append(1)\n"
    assert [f.name for f in module_state(source)] == ["_ITEMS"]
