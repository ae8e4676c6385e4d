"""Review summaries through their repository functions, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cinerec.data.types import Movie
from cinerec.db import review_summaries as rs
from cinerec.db.tables import MovieRow
from cinerec.errors import NotFoundError, ValidationError

KOREAN = "송강호의 연기가 정말 대단했다 🎬 «기생충»"
HTML = '<script>alert("x")</script> & the acting was superb'


def _summary(movie_id: int, *, share: float = 0.8, text: str = HTML) -> rs.ReviewSummary:
    start = text.index("superb") if "superb" in text else 0
    quote = rs.ReviewQuote(text, True, ((start, start + 6),))
    return rs.ReviewSummary(
        movie_id=movie_id,
        n_reviews=12,
        positive_share=share,
        aspects=(
            rs.AspectRecord("acting", 9, 0.9, (quote, rs.ReviewQuote("Too slow.", False))),
            rs.AspectRecord("pacing", 4, 0.25),
        ),
    )


def test_round_trip_keeps_aspects_quotes_and_spans(
    session: Session, catalog: dict[int, Movie]
) -> None:
    korean = rs.ReviewSummary(11, 3, 1.0, (rs.AspectRecord("acting", 3, 1.0, (
        rs.ReviewQuote(KOREAN, True, ((0, 3),)),)),))  # fmt: skip
    stored = rs.replace_review_summaries(
        session, summaries=[_summary(1), korean], source="imdb", model="tfidf"
    )
    session.commit()
    assert stored == 2 and rs.count_review_summaries(session) == 2
    found = rs.get_review_summaries(session, movie_ids=[11, 2, 1, 11])
    assert list(found) == [11, 1]  # asked order, unknown left out, duplicates once
    heat = found[1]
    assert heat.n_reviews == 12 and heat.positive_share == pytest.approx(0.8)
    assert [a.aspect for a in heat.aspects] == ["acting", "pacing"]
    quote = heat.aspects[0].quotes[0]
    start = HTML.index("superb")
    assert quote.text == HTML and quote.positive and quote.spans == ((start, start + 6),)
    assert quote.text[slice(*quote.spans[0])] == "superb"
    assert heat.aspects[0].quotes[1] == rs.ReviewQuote("Too slow.", False, ())
    assert heat.source == "imdb" and heat.model == "tfidf" and heat.updated_at is not None
    assert found[11].aspects[0].quotes[0].text == KOREAN
    assert set(rs.all_review_summaries(session)) == {1, 11}


def test_replace_overwrites_only_the_given_movies(
    session: Session, catalog: dict[int, Movie]
) -> None:
    rs.replace_review_summaries(
        session, summaries=[_summary(1), _summary(5)], source="a", model="m"
    )
    rs.replace_review_summaries(session, summaries=[_summary(1, share=0.1)], source="b", model="m2")
    session.commit()
    found = rs.get_review_summaries(session, movie_ids=[1, 5])
    assert found[1].positive_share == pytest.approx(0.1) and found[1].source == "b"
    assert found[5].positive_share == pytest.approx(0.8) and found[5].source == "a"


@pytest.mark.parametrize(
    ("summary", "error"),
    [
        (rs.ReviewSummary(1, 0, 0.5, ()), ValidationError),
        (rs.ReviewSummary(1, 3, 1.5, ()), ValidationError),
        (rs.ReviewSummary(1, 3, 0.5, (rs.AspectRecord("story", 2, -0.1),)), ValidationError),
        (
            rs.ReviewSummary(
                1,
                3,
                0.5,
                (rs.AspectRecord("story", 2, 0.5, (rs.ReviewQuote("short", True, ((2, 40),)),)),),
            ),  # fmt: skip
            ValidationError,
        ),
        (rs.ReviewSummary(999, 3, 0.5, ()), NotFoundError),
    ],
    ids=["no-reviews", "share-above-1", "aspect-share-below-0", "span-outside", "unknown-movie"],
)
def test_bad_summaries_are_refused_and_lose_nothing(
    session: Session, catalog: dict[int, Movie], summary: rs.ReviewSummary, error: type
) -> None:
    rs.replace_review_summaries(session, summaries=[_summary(1)], source="imdb", model="m")
    session.commit()
    with pytest.raises(error):
        rs.replace_review_summaries(
            session, summaries=[_summary(5), summary], source="imdb", model="m"
        )
    session.rollback()
    assert set(rs.all_review_summaries(session)) == {1}  # neither the good one nor the bad


def test_deleting_a_movie_deletes_its_summary(session: Session, catalog: dict[int, Movie]) -> None:
    rs.replace_review_summaries(
        session, summaries=[_summary(1), _summary(5)], source="i", model="m"
    )
    session.commit()
    session.execute(delete(MovieRow).where(MovieRow.id == 5))
    session.commit()
    assert set(rs.all_review_summaries(session)) == {1}
