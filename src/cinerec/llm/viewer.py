"""The viewer part that every scoring (and reasons) prompt starts with, byte for byte.

Prompts built by :func:`viewer_messages` are a fixed system message followed by a user message
that opens with :func:`viewer_prefix`: who the viewer is (persona, their own taste words, the
genres and titles they watched). Only the task text after it differs between the yes/no scorer,
the verbalizer and a reasons prompt, so a runtime with a KV cache evaluates the viewer part once
and reuses it for every prompt and page of the same viewer.

Candidates are described by :func:`compact_line`, a short line of catalog facts: prompt
processing dominates latency on a CPU, so every token per candidate counts twenty times.

Example:
    >>> from cinerec.data.types import Movie
    >>> print(viewer_prefix(UserProfile("Ann"), "", [Movie(6, "Heat", 1995, ("Crime",))]))
    About the viewer:
    - Genres they watch most: Crime
    - Watched, oldest first: Heat (1995)
    <BLANKLINE>
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Sequence

from cinerec.data.types import Movie
from cinerec.llm.backends.base import Message
from cinerec.llm.grounding import sanitize_user_text
from cinerec.llm.persona import UserProfile, top_genres
from cinerec.llm.schemas import PERSONA_MAX_CHARS
from cinerec.llm.templates import render

MAX_HISTORY_TITLES = 10
MAX_TASTE_CHARS = 300
PLOT_CHARS = 0  # a plot snippet costs ~20 tokens per candidate; off by default


def viewer_system() -> str:
    """The system message shared by every prompt that starts with the viewer prefix."""
    return render("score_system").strip()


def viewer_prefix(
    profile: UserProfile,
    persona: str,
    history: Sequence[Movie],
    *,
    max_titles: int = MAX_HISTORY_TITLES,
    max_taste_chars: int = MAX_TASTE_CHARS,
) -> str:
    """The viewer block: persona, quoted taste, top genres and recent titles; ends with a blank
    line. Empty parts are left out (a MovieLens user has only titles).

    Args:
        profile: The viewer; ``taste`` is untrusted and goes between ``<<<`` and ``>>>``.
        persona: Persona text (may be empty).
        history: Watched movies, oldest first; the last ``max_titles`` are named.
        max_titles: How many recent titles to name.
        max_taste_chars: How much of the taste text enters the prompt.
    """
    facts = []
    persona = sanitize_user_text(persona, PERSONA_MAX_CHARS)
    if persona:
        facts.append(f"- Persona: {persona}")
    taste = sanitize_user_text(profile.taste, max_taste_chars)
    if taste:
        facts.append(f"- Taste, in the viewer's words: <<<{taste}>>>")
    genres = top_genres(history)
    if genres:
        facts.append(f"- Genres they watch most: {', '.join(genres)}")
    recent = [m.display_title for m in list(history)[-max_titles:]] if max_titles > 0 else []
    facts.append(f"- Watched, oldest first: {'; '.join(recent) or '(nothing yet)'}")
    return render("score_viewer", facts="\n".join(facts)).rstrip("\n") + "\n\n"


def viewer_messages(
    profile: UserProfile, persona: str, history: Sequence[Movie], task: str
) -> list[Message]:
    """``[system, user]`` where the user message is :func:`viewer_prefix` followed by ``task``.

    Any prompt built here shares its leading tokens with every other one for the same viewer,
    so the viewer part is evaluated once per viewer (see the module docstring).
    """
    return [
        Message("system", viewer_system()),
        Message("user", viewer_prefix(profile, persona, history) + task),
    ]


def compact_line(movie: Movie, *, plot_chars: int = PLOT_CHARS) -> str:
    """``Title (year) | genres | dir. Name | with A, B`` (+ a plot snippet when asked).

    Example:
        >>> compact_line(Movie(6, "Heat", 1995, ("Action", "Crime"), director="Michael Mann"))
        'Heat (1995) | Action, Crime | dir. Michael Mann'
    """
    genres = [g for g in movie.genres if g and g != "(no genres listed)"][:3]
    fields = [movie.display_title]
    if genres:
        fields.append(", ".join(genres))
    if movie.director:
        fields.append(f"dir. {movie.director}")
    if movie.cast:
        fields.append("with " + ", ".join(movie.cast[:2]))
    overview = " ".join(movie.overview.split())
    if plot_chars > 0 and overview:
        if len(overview) > plot_chars:
            overview = overview[:plot_chars].rsplit(" ", 1)[0] + "..."
        fields.append(overview)
    return " | ".join(" ".join(f.replace("|", "/").split()) for f in fields)
