"""MovieLens title strings: ``"Matrix, The (1999)"`` -> ``("The Matrix", 1999)``."""

from __future__ import annotations

import re

# Trailing year, also a range such as "(2006–2007)" (series) and MovieLens' stray spaces.
_YEAR = re.compile(r"\s*\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$")
# ml-100k marks direct-to-video releases with a trailing "(V)" after the year.
_VIDEO = re.compile(r"\s*\(V\)\s*$")
# Articles MovieLens moves to the end ("Postman, The (Postino, Il)"); "L'" joins without a space.
_ARTICLES = ("The", "A", "An", "Le", "La", "Les", "L'", "El", "Il", "Das", "Der", "Die")
_MOVED_ARTICLE = re.compile(
    r"^(?P<main>.+?), (?P<article>" + "|".join(re.escape(a) for a in _ARTICLES) + r")"
    r"(?P<rest>(?: \(.*\))?)$"
)


def split_title_year(raw: str) -> tuple[str, int | None]:
    """Split a MovieLens title into the title without its trailing ``(year)`` and the year.

    Example:
        >>> split_title_year("Death Note: Desu nôto (2006–2007)")
        ('Death Note: Desu nôto', 2006)
    """
    text = _VIDEO.sub("", raw.strip())
    match = _YEAR.search(text)
    if match is None:
        return text, None
    return text[: match.start()].strip(), int(match.group(1))


def restore_article(title: str) -> str:
    """Move a trailing article back to the front: ``"Matrix, The"`` -> ``"The Matrix"``.

    Only the main title is changed; a trailing alternative title in parentheses stays as is.

    Example:
        >>> restore_article("City of Lost Children, The (Cité des enfants perdus, La)")
        'The City of Lost Children (Cité des enfants perdus, La)'
    """
    match = _MOVED_ARTICLE.match(title)
    if match is None:
        return title
    article = match["article"]
    sep = "" if article.endswith("'") else " "
    return f"{article}{sep}{match['main']}{match['rest']}"


def parse_title(raw: str) -> tuple[str, int | None]:
    """Readable title and year from a MovieLens title.

    Example:
        >>> parse_title("Matrix, The (1999)")
        ('The Matrix', 1999)
    """
    title, year = split_title_year(raw)
    return restore_article(title), year
