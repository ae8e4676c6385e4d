"""Jinja2 templates with autoescaping and the page language."""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import quote_plus

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cinerec.web.i18n import LANGUAGES, translator

templates = Jinja2Templates(directory=str(files("cinerec.web") / "templates"))
templates.env.autoescape = True
templates.env.filters["urlq"] = quote_plus


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
    ctx = {"t": translator(lang), "lang": lang, **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
