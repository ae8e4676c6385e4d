"""Every example in cinerec's docstrings runs and shows what it says (``# doctest: +SKIP``
marks those that need data, a trained model or a server)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cinerec

MODULES = sorted(m.name for m in pkgutil.walk_packages(cinerec.__path__, "cinerec."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
