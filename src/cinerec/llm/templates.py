"""Prompt templates kept as text files in ``cinerec/llm/prompts/``.

Templates use :class:`string.Template` syntax (``$name`` or ``${name}``; a literal dollar is
``$$``). Rendering with a missing variable raises :class:`TemplateError` naming what is missing,
instead of sending a half-filled prompt. Values are substituted once and never re-parsed, so user
text containing ``$`` is safe. Files are read through :mod:`importlib.resources`, so they work
from an installed wheel.

Example:
    >>> render("rerank_system", n=5, language_name="English").startswith("You re-rank")
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template

from cinerec.errors import CinerecError

_PACKAGE = "cinerec.llm"
_FOLDER = "prompts"


class TemplateError(CinerecError, ValueError):
    """A prompt template is missing, malformed, or was rendered without all its variables."""


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """One prompt template: its name (the file stem) and raw text."""

    name: str
    text: str

    @property
    def variables(self) -> frozenset[str]:
        """Names of the ``$variables`` the template needs."""
        return frozenset(Template(self.text).get_identifiers())

    def render(self, **values: object) -> str:
        """Fill every variable; extra values are ignored.

        Raises:
            TemplateError: a variable has no value, or the template has a stray ``$``.
        """
        missing = sorted(self.variables - values.keys())
        if missing:
            raise TemplateError(
                f"Prompt template {self.name!r} needs {', '.join(missing)}; pass "
                f"{'it' if len(missing) == 1 else 'them'} to render()."
            )
        try:
            return Template(self.text).substitute({k: str(v) for k, v in values.items()})
        except (KeyError, ValueError) as exc:
            raise TemplateError(
                f"Prompt template {self.name!r} is malformed ({exc}); write a literal $ as $$."
            ) from exc


@lru_cache(maxsize=32)
def load_template(name: str) -> PromptTemplate:
    """Load ``prompts/<name>.txt`` from the package.

    Raises:
        TemplateError: no such template.
    """
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, f"{name}.txt")
    try:
        text = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise TemplateError(
            f"No prompt template {name!r}; expected cinerec/llm/prompts/{name}.txt."
        ) from exc
    return PromptTemplate(name=name, text=text)


def render(template: str, /, **values: object) -> str:
    """Load and render a template in one call (``template`` is positional: ``name`` is a common
    variable)."""
    return load_template(template).render(**values)
