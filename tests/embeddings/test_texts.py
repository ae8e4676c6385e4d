from __future__ import annotations

from cinerec.data.types import Movie
from cinerec.embeddings.texts import fit_description

from .fakes import HashingEmbedder

MOVIE = Movie(
    1,
    "Heat",
    1995,
    ("Crime", "Thriller"),
    overview=" ".join(f"Sentence number {i} about the heist." for i in range(40)),
    director="Michael Mann",
)


def test_long_description_is_cut_at_a_sentence_to_fit_the_model() -> None:
    fitted = fit_description(MOVIE, HashingEmbedder(max_seq_tokens=40))
    assert fitted.shortened and fitted.tokens <= 40
    assert fitted.text.startswith("Heat (1995). Genres: Crime, Thriller. Directed by Michael Mann.")
    assert fitted.text.endswith("heist.")  # the overview is cut after a whole sentence
    one_more = fit_description(MOVIE, HashingEmbedder(max_seq_tokens=fitted.tokens + 7))
    assert len(one_more.text) > len(fitted.text)  # the longest text that fits is kept


def test_text_that_fits_or_unlimited_model_is_untouched() -> None:
    short = Movie(2, "Up", 2009, ("Animation",))
    assert fit_description(short, HashingEmbedder(max_seq_tokens=40)).shortened is False
    unlimited = fit_description(MOVIE, HashingEmbedder(max_seq_tokens=None))
    assert not unlimited.shortened and unlimited.tokens > 40
