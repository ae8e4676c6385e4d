"""Post cards: a PNG of the card size, posters used only when large enough, Korean glyphs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cinerec.services import postcard
from cinerec.services.postcard import (
    CARD_SIZE,
    CardContent,
    card_png,
    find_cjk_font,
    load_font,
    poster_usable,
    render_card,
    wrap_text,
)

CONTENT = CardContent("Heat", 1995, ("Crime", "Thriller"), "Two pros, one city, no mercy at all.")
GREEN = (30, 160, 60)


def _poster(tmp_path: Path, size: tuple[int, int]) -> Path:
    path = tmp_path / f"poster-{size[0]}x{size[1]}.png"
    Image.new("RGB", size, GREEN).save(path)
    return path


def test_a_card_is_a_png_of_the_card_size() -> None:
    png = card_png(CONTENT, index=(1, 5))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.size == CARD_SIZE and image.mode == "RGB"
    pixels = np.asarray(image)
    assert pixels.std() > 10  # a design with text, not a blank canvas


def test_a_large_poster_is_used_and_a_small_one_is_not(tmp_path: Path) -> None:
    assert poster_usable((500, 750)) and not poster_usable((499, 900))
    assert not poster_usable((800, 700))
    top = (slice(100, 300), slice(100, 300))  # above the text block, below nothing
    large = np.asarray(render_card(CONTENT, poster=_poster(tmp_path, (600, 900))))[top]
    assert np.abs(large.reshape(-1, 3).mean(axis=0) - GREEN).max() < 12
    small = np.asarray(render_card(CONTENT, poster=_poster(tmp_path, (300, 450))))[top]
    assert np.abs(small.reshape(-1, 3).mean(axis=0) - GREEN).max() > 30
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    assert render_card(CONTENT, poster=broken).size == CARD_SIZE  # falls back to the design


def _ink(text: str, font: postcard.Font) -> np.ndarray:
    canvas = Image.new("L", (600, 120), 0)
    ImageDraw.Draw(canvas).text((10, 10), text, font=font, fill=255)
    return np.asarray(canvas) > 128


def test_korean_text_renders_real_glyphs() -> None:
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    font = load_font(64)
    ga, na = _ink("가", font), _ink("나", font)
    assert ga.sum() > 200 and na.sum() > 200  # non-empty glyph area
    assert (ga != na).sum() > 100  # distinct glyphs, not the same "missing" box twice
    card = render_card(
        CardContent("기생충", 2019, ("드라마",), "반지하 가족의 계획이 무너지는 순간.")
    )
    assert card.size == CARD_SIZE


def test_without_a_cjk_font_the_default_font_is_used_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postcard, "find_cjk_font", lambda bold=False: None)
    postcard.load_font.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="fonts-noto-cjk"):
            font = postcard.load_font(40)
        assert _ink("Heat", font).sum() > 50
    finally:
        postcard.load_font.cache_clear()


def test_wrapping_fits_the_width_and_ellipsizes() -> None:
    font = load_font(40)
    lines = wrap_text("word " * 80, font, 400, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 400 for line in lines)
    korean = wrap_text("띄어쓰기없는아주긴한국어문장입니다" * 3, font, 300, 10)
    assert len(korean) > 1 and all(font.getlength(line) <= 300 for line in korean)
