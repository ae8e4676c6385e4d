"""reviews: summaries built from an IMDB archive, stored, and turned into prompt notes."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from cinerec.config import Settings
from cinerec.data.types import Movie
from cinerec.db import repository as repo
from cinerec.db.review_summaries import AspectRecord, ReviewQuote, ReviewSummary
from cinerec.errors import DataError
from cinerec.reviews.aspects.classifier import AspectClassifier, AspectClassifierConfig
from cinerec.reviews.aspects.weak_labels import MOVIE_LEXICON, weak_label_matrix
from cinerec.reviews.sentiment import TfidfSentimentConfig, TfidfSentimentModel
from cinerec.reviews.workflow import ReviewPaths
from cinerec.services import reviews
from cinerec.services.platform import Platform
from tests.reviews.aspects.test_summary import LABELS, TRAIN  # tiny labelled sentences

# (IMDb id, review, positive): movie 1 is praised for its acting and panned for its ending,
# movie 2 has too few reviews, movie 3's reviews belong to a film outside the catalog.
REVIEWS = [
    (111, "I saw it twice. The acting was superb.", True),
    (111, "Superb acting all round. The ending was awful.", True),
    (111, "The acting was superb but the ending was awful.", False),
    (111, "The ending was awful, sadly.", False),
    (222, "The acting was superb.", True),
    (999, "The acting was superb.", True),
    (999, "The acting was superb.", True),
    (999, "The acting was superb.", True),
]


def write_archive(root: Path) -> Path:
    """An ``aclImdb`` archive holding :data:`REVIEWS` (all in the train split)."""
    folder = root / "imdb-aclImdb"
    folder.mkdir(parents=True)

    def add(tar: tarfile.TarFile, name: str, text: str) -> None:
        raw = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))

    with tarfile.open(folder / "aclImdb_v1_labeled.tar.gz", "w:gz") as tar:
        for polarity, positive in (("neg", False), ("pos", True)):
            mine = [(i, t) for i, t, p in REVIEWS if p is positive]
            for rid, (_, text) in enumerate(mine):
                add(tar, f"aclImdb/train/{polarity}/{rid}_{9 if positive else 2}.txt", text)
            urls = "".join(f"http://www.imdb.com/title/tt{i:07d}/usercomments\n" for i, _ in mine)
            add(tar, f"aclImdb/train/urls_{polarity}.txt", urls)
    return root


def save_models(home: Path) -> None:
    """Tiny sentiment and aspect models where the build looks for them (so it trains none)."""
    cfg = TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)
    paths = ReviewPaths(home)
    paths.model("imdb").parent.mkdir(parents=True)
    TfidfSentimentModel(cfg).fit(TRAIN, LABELS).save(paths.model("imdb"))
    AspectClassifier(AspectClassifierConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)).fit(
        TRAIN, weak_label_matrix(TRAIN, MOVIE_LEXICON), MOVIE_LEXICON.aspects
    ).save(paths.model("aspects"))


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    p = Platform(Settings(home=tmp_path / "home", llm_backend="none", warm_embeddings=False))
    p.migrate()
    movies = [
        Movie(1, "Heat", 1995, ("Crime",), imdb_id="0000111"),
        Movie(2, "Tiny", 2001, ("Drama",), imdb_id="0000222"),
        Movie(3, "No link", 2002, ("Drama",)),
    ]
    with p.session() as session:
        repo.upsert_movies(session, movies=movies, popularity={})
    save_models(p.settings.home)
    return p


def test_build_summarises_catalog_movies_with_enough_reviews(
    platform: Platform, tmp_path: Path
) -> None:
    data = write_archive(tmp_path / "data")
    report = reviews.build_review_summaries(platform, data_dir=data)
    assert report.movies == 1 and report.reviews == 4 and report.trained == ()
    stored = reviews.summaries_for(platform, [1, 2, 3])
    assert list(stored) == [1]  # movie 2 has one review; movie 3 none; id 999 is not ours
    heat = stored[1]
    assert heat.n_reviews == 4 and heat.positive_share == pytest.approx(0.5)
    by_aspect = {a.aspect: a for a in heat.aspects}
    assert by_aspect["acting"].mentions == 3 and by_aspect["acting"].positive_share > 0.6
    assert by_aspect["ending"].positive_share < 0.4
    quote = by_aspect["acting"].quotes[0]
    assert [quote.text[a:b].lower() for a, b in quote.spans] == ["superb"]
    assert reviews.start_review_build(platform, data_dir=data) is False  # already built
    with platform.session() as session:  # descriptions (embedded, searched) carry the verdicts
        described = repo.get_movies(session, ids=[1, 2])
    assert "Reviewers praise the acting" in described[1].description
    assert "criticise the ending" in described[1].description
    assert "Reviewers" not in described[2].description


def test_build_without_the_archive_is_a_clear_error(platform: Platform, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="imdb"):
        reviews.build_review_summaries(platform, data_dir=tmp_path / "empty")
    assert reviews.start_review_build(platform, data_dir=tmp_path / "empty") is False


def test_note_verdicts_and_quotes() -> None:
    long_quote = "The acting was superb " + "and went on " * 30
    summary = ReviewSummary(
        7,
        30,
        0.5,
        (
            AspectRecord("acting", 20, 0.9, (ReviewQuote(long_quote, True),)),
            AspectRecord("pacing", 9, 0.5),
            AspectRecord("ending", 5, 0.1),
            AspectRecord("music", 3, 1.0),  # beyond max_aspects=3
        ),
    )
    note = reviews.review_note(summary)
    assert note.startswith("IMDb reviewers (30 reviews, 50% positive): praise the acting; ")
    assert "criticise the ending; are mixed on the pacing" in note and "music" not in note
    quoted = note.split('one wrote "')[1]
    assert quoted.endswith('..."') and len(quoted) <= reviews.NOTE_QUOTE_CHARS + 5
    assert "one wrote" not in reviews.review_note(summary, quote=False)
    assert [reviews.verdict(s) for s in (0.6, 0.59, 0.41, 0.4)] == [
        "praised",
        "mixed",
        "mixed",
        "criticised",
    ]
    assert reviews.quotes_of(summary) == (long_quote,) and reviews.quotes_of(None) == ()


def test_notes_and_highlights_read_the_stored_summaries(platform: Platform, tmp_path: Path) -> None:
    reviews.build_review_summaries(platform, data_dir=write_archive(tmp_path / "data"))
    notes = reviews.review_notes(platform)([1, 2])
    assert list(notes) == [1] and notes[1].startswith("IMDb reviewers (4 reviews")
    highlights = reviews.highlight_source(platform, [1, 2])
    heat = Movie(1, "Heat", 1995)
    assert highlights(heat) and all("superb" in q.lower() or "awful" in q for q in highlights(heat))
    assert highlights(Movie(2, "Tiny", 2001)) == ()


def test_a_cancelled_build_stops_and_stores_nothing(platform: Platform, tmp_path: Path) -> None:
    from cinerec.llm.backends.cancel import Cancelled, CancelToken

    token = CancelToken()
    token.cancel("the job was cancelled")
    with pytest.raises(Cancelled, match="review summaries was stopped"):
        reviews.build_review_summaries(
            platform, data_dir=write_archive(tmp_path / "data"), cancel=token
        )
    assert reviews.summaries_for(platform, [1, 2, 3]) == {}
