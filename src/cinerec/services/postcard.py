"""Shareable PNG cards for curated posts (Pillow only; no model, no database).

A card shows a movie's title, year and genres and the post's one-liner for it, over the movie's
poster when a local one is given and large enough (:data:`MIN_POSTER_SIZE`, 500 x 750), else
over a generated design (a gradient picked from the title, film-strip edges, the year as a large
watermark). Korean needs a CJK font: :func:`find_cjk_font` looks in the standard font folders
for Noto Sans/Serif CJK (``fonts-noto-cjk`` on Debian), Nanum, Apple SD Gothic Neo or Malgun
Gothic; without one, Pillow's default font is used with a warning (Hangul will not render).

Example:
    >>> png = card_png(CardContent("Heat", 1995, ("Crime",), "Two pros, one city, no mercy."))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

log = logging.getLogger(__name__)

CARD_SIZE = (1080, 1350)
"""Width and height of a card: the 4:5 portrait format of social feeds."""
MIN_POSTER_SIZE = (500, 750)
"""A poster smaller than this (either side) would look blurry and is not used."""

FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/Library/Fonts",
    "C:/Windows/Fonts",
)
CJK_FONT_PATTERNS = (
    "NotoSansCJK*",
    "NotoSerifCJK*",
    "NotoSansKR*",
    "NotoSerifKR*",
    "NanumGothic*",
    "AppleSDGothicNeo*",
    "malgun*",
)
_PALETTES = (
    ((24, 32, 72), (196, 72, 92)),
    ((12, 52, 60), (222, 164, 70)),
    ((40, 18, 56), (90, 150, 210)),
    ((20, 20, 24), (200, 60, 40)),
    ((16, 60, 40), (220, 200, 120)),
    ((60, 20, 30), (240, 140, 100)),
)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class CardContent:
    """What one card says. ``genres`` are display strings (already translated if needed)."""

    title: str
    year: int | None
    genres: tuple[str, ...]
    one_liner: str
    footer: str = "cinerec"


@dataclass(frozen=True, slots=True)
class CardStyle:
    """Sizes and colours of a card."""

    size: tuple[int, int] = CARD_SIZE
    margin: int = 72
    title_px: int = 76
    meta_px: int = 34
    text_px: int = 44
    footer_px: int = 28
    ink: tuple[int, int, int] = (246, 244, 238)
    muted: tuple[int, int, int] = (200, 200, 205)
    accent: tuple[int, int, int] = (245, 197, 24)


def _font_files() -> list[Path]:
    found: list[Path] = []
    for folder in FONT_DIRS:
        root = Path(os.path.expanduser(folder))
        if not root.is_dir():
            continue
        for pattern in CJK_FONT_PATTERNS:
            for suffix in (".ttc", ".otf", ".ttf"):
                found.extend(sorted(root.rglob(pattern + suffix)))
    return found


@lru_cache(maxsize=4)
def find_cjk_font(bold: bool = False) -> Path | None:
    """A font file with Hangul from the standard font folders, or None.

    Prefers the bold (``bold=True``) or regular weight; Sans before Serif.
    """
    files = _font_files()
    weight = "bold" if bold else "regular"
    for path in files:
        if weight in path.name.lower():
            return path
    return files[0] if files else None


def _face_index(path: Path) -> int:
    """In a font collection (``.ttc``), the Korean face; else 0."""
    if path.suffix.lower() != ".ttc":
        return 0
    for index in range(10):
        try:
            name = " ".join(ImageFont.truetype(str(path), 12, index=index).getname() or ())
        except OSError:
            break
        if "KR" in name or "Korean" in name:
            return index
    return 0


@lru_cache(maxsize=32)
def load_font(size: int, bold: bool = False) -> Font:
    """A font of ``size`` pixels that renders Hangul when a CJK font is installed; otherwise
    Pillow's default font, with a warning."""
    path = find_cjk_font(bold) or find_cjk_font(not bold)
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size, index=_face_index(path))
        except OSError as exc:
            log.warning("cannot load font %s: %s", path, exc)
    message = (
        "No CJK font found (install fonts-noto-cjk); post cards use Pillow's default font and "
        "Korean text will not render."
    )
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    return ImageFont.load_default(size=size)


def poster_usable(size: tuple[int, int], minimum: tuple[int, int] = MIN_POSTER_SIZE) -> bool:
    """Whether a poster of ``size`` (width, height) is large enough for a card."""
    return size[0] >= minimum[0] and size[1] >= minimum[1]


def open_poster(path: Path | None) -> Image.Image | None:
    """The poster at ``path`` when it opens and is large enough, else None (logged)."""
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            if not poster_usable(image.size):
                log.info("poster %s is %sx%s, too small; using a design", path.name, *image.size)
                return None
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("cannot read poster %s (%s); using a design", path.name, exc)
        return None


def _text_width(font: Font, text: str) -> float:
    return float(font.getlength(text))


def wrap_text(text: str, font: Font, width: int, max_lines: int) -> list[str]:
    """Lines of ``text`` that fit ``width`` pixels: broken at spaces, long words (or Korean
    phrases) broken by character; the last kept line ends in "…" when text was left out."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if _text_width(font, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:  # a word wider than the line
            if _text_width(font, current + ch) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(font, last + "…") > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines


def _palette(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return _PALETTES[digest[0] % len(_PALETTES)]


def _gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(height - 1, 1)
        column.putpixel(
            (0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize(size)


def _design(content: CardContent, style: CardStyle) -> Image.Image:
    """The generated background: gradient, film-strip edges and the year as a watermark."""
    dark, light = _palette(content.title)
    image = _gradient(style.size, light, dark)
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = style.size
    if content.year:  # text ignores the fill's alpha: draw it on a layer and blend
        layer = Image.new("RGBA", style.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).text(
            (width // 2, height // 3),
            str(content.year),
            font=load_font(360, bold=True),
            anchor="mm",
            fill=(255, 255, 255, 38),
        )
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
        draw = ImageDraw.Draw(image, "RGBA")
    for y in (0, height - 56):
        draw.rectangle((0, y, width, y + 56), fill=(0, 0, 0, 150))
        for x in range(24, width, 72):
            draw.rounded_rectangle((x, y + 16, x + 36, y + 40), radius=6, fill=(255, 255, 255, 90))
    return image


def _poster_background(poster: Image.Image, style: CardStyle) -> Image.Image:
    """The poster cropped to fill the card, darkened towards the bottom for the text."""
    image = ImageOps.fit(poster, style.size, Image.Resampling.LANCZOS)
    width, height = style.size
    shade = Image.new("L", (1, height))
    for y in range(height):
        shade.putpixel((0, y), int(230 * max(0.0, (y / height - 0.35) / 0.65) ** 1.2))
    black = Image.new("RGB", style.size, (0, 0, 0))
    return Image.composite(black, image, shade.resize(style.size))


def render_card(
    content: CardContent,
    *,
    poster: Path | None = None,
    style: CardStyle | None = None,
    index: tuple[int, int] | None = None,
) -> Image.Image:
    """Draw one card.

    Args:
        content: The texts.
        poster: A local poster image; used only when it opens and is at least 500 x 750.
        style: Sizes and colours.
        index: ``(k, total)`` printed in a corner ("2/5") when given.

    Returns:
        An RGB image of ``style.size``.
    """
    style = style or CardStyle()
    image = open_poster(poster)
    image = _poster_background(image, style) if image else _design(content, style)
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = style.size
    inner = width - 2 * style.margin
    title_font = load_font(style.title_px, bold=True)
    meta_font = load_font(style.meta_px)
    text_font = load_font(style.text_px)
    small = load_font(style.footer_px)

    title = wrap_text(content.title, title_font, inner, 3)
    meta = " · ".join([*([str(content.year)] if content.year else []), ", ".join(content.genres)])
    review = wrap_text(f"“{content.one_liner}”", text_font, inner, 5)
    gap = 18
    blocks: Sequence[tuple[list[str], Font, tuple[int, int, int], int]] = (
        (title, title_font, style.ink, int(style.title_px * 1.15)),
        ([meta] if meta.strip(" ·") else [], meta_font, style.muted, int(style.meta_px * 1.4)),
        (review, text_font, style.ink, int(style.text_px * 1.35)),
    )
    total = sum(len(lines) * step for lines, _, _, step in blocks) + 3 * gap + 8
    y = height - style.margin - 80 - total
    for number, (lines, font, colour, step) in enumerate(blocks):
        if number == 2:
            draw.rectangle((style.margin, y, style.margin + 96, y + 8), fill=style.accent)
            y += 8 + gap
        for line in lines:
            draw.text((style.margin, y), line, font=font, fill=colour)
            y += step
        y += gap
    footer_y = height - style.margin - 10
    draw.text((style.margin, footer_y), content.footer, font=small, fill=style.accent, anchor="ls")
    if index:
        label = f"{index[0]}/{index[1]}"
        draw.text(
            (width - style.margin, footer_y), label, font=small, fill=style.muted, anchor="rs"
        )
    return image


def card_png(
    content: CardContent,
    *,
    poster: Path | None = None,
    style: CardStyle | None = None,
    index: tuple[int, int] | None = None,
) -> bytes:
    """:func:`render_card` encoded as PNG bytes."""
    buffer = io.BytesIO()
    render_card(content, poster=poster, style=style, index=index).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
