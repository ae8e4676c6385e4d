"""A persona's moods, qualities and styles must be the viewer's own (cinerec.llm.facts.moods)."""

from __future__ import annotations

import pytest

from cinerec.data.types import Movie
from cinerec.llm.facts import check_text, false_sentences
from cinerec.llm.facts.moods import mood_hits, supported_moods

STAR_TREK = Movie(1356, "Star Trek: First Contact", 1996, ("Action", "Adventure", "Sci-Fi"))
BILKO = Movie(810, "Sgt. Bilko", 1996, ("Comedy",))
SPACE_JAM = Movie(673, "Space Jam", 1996, ("Adventure", "Animation", "Children", "Sci-Fi"))
TICKS = [STAR_TREK, BILKO, SPACE_JAM]
SNEAKERS = Movie(1396, "Sneakers", 1992, ("Action", "Comedy", "Crime", "Drama", "Sci-Fi"))
MUSKETEERS = Movie(552, "Three Musketeers, The", 1993, ("Action", "Adventure", "Comedy", "Romance"))
ROMANCE_TICKS = [SNEAKERS, MUSKETEERS]


def _false_moods(text: str, taste: str, watched: list[Movie], language: str = "en") -> list[str]:
    checked = check_text(
        text, subject=None, watched=watched, language=language, persona=True, taste=taste
    )
    return [c.claim.span for c in checked if c.claim.kind == "mood" and c.ok is False]


def test_the_invented_intensity_of_a_slow_burn_viewer_is_false() -> None:
    text = (
        "This viewer is a 29-year-old who enjoys slow-burn sci-fi and thriller movies, with a "
        "preference for noisier, more intense versions of these genres. They would rather "
        "avoid horror movies."
    )
    taste = "slow-burn sci-fi, no horror"
    checked = check_text(text, subject=None, watched=TICKS, persona=True, taste=taste)
    assert _false_moods(text, taste, TICKS) == ["noisier", "intense"]
    # slow-burn is the viewer's own; thriller, a genre neither ticked nor asked for, is false too
    moods = [c for c in checked if c.claim.kind == "mood" and c.ok]
    assert [c.claim.span for c in moods] == ["slow-burn"]
    genres = [c.claim.value for c in checked if c.claim.kind == "genre" and c.ok is False]
    assert genres == ["Thriller"]
    assert false_sentences(checked) == {0}


def test_the_tastes_own_words_hold_and_the_ones_added_to_them_do_not() -> None:
    text = (
        "This viewer watches mostly comedy, action, crime movies, with a preference for quirky "
        "indie romances. They particularly enjoy quirky indie romances, which they find both "
        "entertaining and emotionally resonant."
    )
    taste = "quirky indie romances"
    assert _false_moods(text, taste, ROMANCE_TICKS) == ["emotionally resonant"]
    checked = check_text(text, subject=None, watched=ROMANCE_TICKS, persona=True, taste=taste)
    assert false_sentences(checked) == {1}


def test_the_keywords_of_two_ticked_movies_support_a_mood_one_movies_do_not() -> None:
    indie = Movie(1, "Clerks", 1994, ("Comedy",), keywords=("independent film", "dark comedy"))
    other = Movie(2, "Heathers", 1989, ("Comedy",), keywords=("dark comedy", "high school"))
    text = "This viewer enjoys dark, independent comedies."
    assert _false_moods(text, "", [indie, other]) == ["independent"]
    assert _false_moods(text, "", [indie, BILKO]) == ["dark", "independent"]
    # v22en: "intelligent", a keyword of Despicable Me alone, is no taste for "nuanced"
    despicable = Movie(3, "Despicable Me", 2010, ("Animation",), keywords=("intelligent",))
    text = "This viewer prefers something more nuanced and complex."
    assert _false_moods(text, "war epics and historical dramas", [despicable]) == ["nuanced"]


@pytest.mark.parametrize(
    ("text", "taste", "false"),
    [
        ("이 관객은 잔잔한 로맨스 영화를 좋아합니다.", "잔잔한 로맨스 영화, 공포는 싫어요", []),
        ("이 관객은 강렬하고 어두운 SF 영화를 좋아합니다.", "잔잔한 SF", ["강렬", "어두운"]),
        # v20's "공격적인 영화를 제거합니다" for a viewer who wrote only 공포 빼고
        ("이 관객은 드라마 영화를 주로 보며, 공격적인 영화를 제거합니다.", "공포 빼고", ["공격적"]),
        # a mood written in the other language's words is the same group
        ("이 관객은 느린 전개의 SF 영화를 좋아합니다.", "slow-burn sci-fi", []),
        ("이 관객은 반전 있는 스릴러를 좋아합니다.", "반전 있는 스릴러와 범죄 영화", []),
    ],
)
def test_korean_moods(text: str, taste: str, false: list[str]) -> None:
    assert _false_moods(text, taste, TICKS, "ko") == false


def test_titles_names_and_reasons_hold_no_mood_claim() -> None:
    thor = Movie(2, "Thor: The Dark World", 2013, ("Action", "Fantasy"))
    text = "This viewer enjoys Thor: The Dark World and films with Dark Knight Rises."
    assert _false_moods(text, "", [thor]) == []
    # a reason describes its movie: moods there are no claim about the viewer
    checked = check_text("Heat is a dark, gritty crime film.", subject=BILKO, watched=TICKS)
    assert not [c for c in checked if c.claim.kind == "mood"]


def test_supported_moods_read_taste_and_keywords_in_either_language() -> None:
    assert supported_moods("웅장한 SF 블록버스터") == {"epic", "mainstream"}
    assert supported_moods("war epics, nothing too gory") == {"epic", "violent"}
    twists = [["twist ending", "based on novel"], ["surprise ending"], ["heist"]]
    assert supported_moods(None, twists) == {"twist"}
    assert [g for *_, g, _ in mood_hits("feel-good comedies", "en")] == ["feel-good"]


def test_a_word_restating_a_genre_is_no_mood_claim() -> None:
    # Qwen 1.5B for a viewer of action comedies (persona_taste_1.5b_regen, page 0)
    text = "They enjoy the thrill of action-packed scenes and the humor of comedy films."
    assert _false_moods(text, "", TICKS) == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("이 시청자는 35세 성인 여성으로, 코미디 영화를 좋아해요.", "ko"),
        ("They are a 30-year-old adult who enjoys comedies.", "en"),
        ("They are a mature viewer of comedies.", "en"),
        ("그녀는 역사 영화와 코미디를 즐겨 봐요.", "ko"),
    ],
)
def test_words_that_describe_the_viewer_or_name_a_genre_are_no_mood(
    text: str, language: str
) -> None:
    assert _false_moods(text, "comedies", TICKS, language) == []
