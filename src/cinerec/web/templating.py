"""Jinja2 templates with autoescaping and the page language."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any
from urllib.parse import quote_plus, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cinerec.services.catalog import GENRES_KO
from cinerec.services.reviews import verdict
from cinerec.web.i18n import LANGUAGES, translator
from cinerec.web.security import csrf_token

templates = Jinja2Templates(directory=str(files("cinerec.web") / "templates"))
templates.env.autoescape = True
templates.env.filters["urlq"] = quote_plus


def marked_segments(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut at ``spans`` into ``(piece, highlighted)`` pairs, for ``<mark>`` in a template
    (each piece is still autoescaped). Overlapping or out-of-range spans are clipped.

    Example:
        >>> marked_segments("A superb film", [(2, 8)])
        [('A ', False), ('superb', True), (' film', False)]
    """
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted((max(0, a), min(len(text), b)) for a, b in spans):
        if end <= max(start, at):
            continue
        start = max(start, at)
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out


templates.env.filters["marked"] = lambda quote: marked_segments(quote.text, quote.spans)
templates.env.filters["verdict"] = verdict  # praised / mixed / criticised, as in prompts


def genre_names(genres: Sequence[str], lang: str) -> list[str]:
    """Genre names in the page's language (the catalog stores them in English)."""
    return [GENRES_KO.get(g, g) for g in genres] if lang == "ko" else list(genres)


def language_url(request: Request, lang: str) -> str:
    """This page's address with ``lang`` switched, keeping its other parameters (e.g. the open
    conversation ``c``)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*params, ('lang', lang)])}"


def page_language(request: Request, fallback: str = "en") -> str:
    """``?lang=`` first, then the language cookie, then the profile's language."""
    lang = request.query_params.get("lang") or request.cookies.get("cinerec_lang") or fallback
    return lang if lang in LANGUAGES else "en"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    """Render a template with ``t`` (strings) and ``lang`` in its context."""
    lang = language or page_language(request)
    ctx = {
        "t": translator(lang),
        "lang": lang,
        "csrf_token": csrf_token(request),
        "language_url": lambda code: language_url(request, code),
        "genre_names": lambda genres: genre_names(genres, lang),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
