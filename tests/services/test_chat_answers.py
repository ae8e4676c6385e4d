"""Template answers built in code from catalog facts: a comparison states its verdict."""

from __future__ import annotations

import pytest

from cinerec.data.types import Movie
from cinerec.llm.chat.phrase import keeps_verdict
from cinerec.services.chat_answers import compare_answer
from cinerec.services.chat_understand import Query

HEAT = Movie(6, "Heat", 1995, ("Crime",))
UP = Movie(7, "Up", 2009, ("Animation",))
COUNTS = {6: 120, 7: 40}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize(
    ("order", "winner"),
    [("older", 6), ("newer", 7), ("more_rated", 6), ("less_rated", 7)],
)
def test_comparison_drafts_name_the_right_winner(order: str, winner: int, language: str) -> None:
    query = Query(kind="compare", movies=(UP, HEAT), order=order)  # type: ignore[arg-type]
    answer = compare_answer(query, language, COUNTS)
    other = 7 if winner == 6 else 6
    assert answer.verdict == (winner, other)
    # The draft itself passes the check its phrasings must pass.
    assert keeps_verdict(answer.text, winner, other), answer.text
    if order == "less_rated" and language == "en":
        assert "Up (2009) [#7] has fewer ratings" in answer.text
