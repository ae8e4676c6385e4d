"""Outgoing links shown on cards."""

from __future__ import annotations

from urllib.parse import quote_plus

from cinerec.data.types import Movie


def where_to_watch(movie: Movie) -> str:
    """A search URL for the title on a streaming guide (no scraping, no API key)."""
    query = f"{movie.title} {movie.year}" if movie.year else movie.title
    return f"https://www.justwatch.com/us/search?q={quote_plus(query)}"
