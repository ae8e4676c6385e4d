"""evidence: what a card shares with the ticked movies and the taste, phrased without a model."""

from __future__ import annotations

from cinerec.data.types import Movie
from cinerec.llm.evidence import build_evidence, evidence_lines, evidence_reason
from cinerec.llm.facts import check_text
from tests.llm.movies import CANDIDATES, HISTORY

GODFATHER_II = CANDIDATES[1]
PULP = CANDIDATES[0]


def test_shared_people_come_first_then_taste_keywords_and_genres() -> None:
    evidence = build_evidence(GODFATHER_II, HISTORY, taste="crime stories", review="praised acting")
    kinds = [(f.kind, f.value) for f in evidence.facts]
    assert kinds[0] == ("director", "Francis Ford Coppola")
    assert ("cast", "Al Pacino") in kinds and ("taste", "Crime") in kinds
    assert kinds[-2:] == [("review", "praised acting"), ("year", "1974")]
    pacino = next(f for f in evidence.facts if f.value == "Al Pacino")
    assert set(pacino.watched) == {"Godfather, The", "Heat"}  # only ticked movies that share it


def test_a_disliked_genre_is_never_evidence() -> None:
    evidence = build_evidence(PULP, HISTORY, taste="no comedy please")
    assert not any(f.value == "Comedy" for f in evidence.facts)
    assert "comedy" not in evidence_lines(evidence, "en")


def test_imax_and_untagged_genres_are_not_evidence() -> None:
    card = Movie(1, "Dunkirk", 2017, ("Action", "War", "IMAX"))
    seen = Movie(2, "Interstellar", 2014, ("Sci-Fi", "IMAX"))
    assert build_evidence(card, [seen]).facts[0].kind == "year"


def test_the_lead_fact_varies_across_a_page() -> None:
    evidence = build_evidence(GODFATHER_II, HISTORY)
    first = evidence.lead(())[0]
    second = evidence.lead([first.key])[0]
    assert first.key != second.key
    assert evidence_lines(evidence, "en", avoid=[first.key]).startswith("- starring")


def test_the_evidence_template_is_true_by_the_fact_checker_in_both_languages() -> None:
    for card in CANDIDATES:
        evidence = build_evidence(card, HISTORY, taste="crime, 범죄")
        for language in ("en", "ko"):
            text = evidence_reason(evidence, language)
            checked = check_text(text, subject=card, watched=HISTORY, language=language)
            assert text and all(c.ok is not False for c in checked), (text, checked)
    ko = evidence_reason(build_evidence(GODFATHER_II, HISTORY), "ko")
    assert ko == "보신 The Godfather의 감독 Francis Ford Coppola의 영화예요."


def test_a_card_sharing_nothing_still_leads_with_a_theme_of_its_own() -> None:
    card = Movie(1, "Up", 2009, ("Animation",), keywords=("duringcreditsstinger", "balloon"))
    seen = Movie(2, "Heat", 1995, ("Crime",))
    evidence = build_evidence(card, [seen])
    assert [(f.kind, f.value) for f in evidence.facts] == [("theme", "balloon"), ("year", "2009")]
    assert evidence_reason(evidence, "en") == "Its themes include balloon."
    assert evidence_reason(evidence, "ko") == "balloon 주제를 다루는 영화예요."
    assert "- theme 'balloon'" in evidence_lines(evidence, "en")


def test_specific_facts_lead_first_and_a_used_one_only_when_all_were_used() -> None:
    card = Movie(1, "Up", 2009, ("Animation",), keywords=("balloon",))
    evidence = build_evidence(card, [])
    assert evidence.lead([])[0].kind == "theme"
    assert evidence.lead(["theme:balloon"])[0].kind == "year"  # not the same fact again
    assert evidence.lead(["theme:balloon", "year:2009"])[0].kind == "theme"


def test_credit_stingers_are_no_theme_even_when_shared() -> None:
    card = Movie(1, "Up", 2009, ("Animation",), keywords=("aftercreditsstinger", "balloon"))
    seen = Movie(2, "Cars", 2006, ("Comedy",), keywords=("aftercreditsstinger",))
    assert [f.value for f in build_evidence(card, [seen]).facts] == ["balloon", "2009"]


def test_content_tags_and_source_notes_are_no_theme() -> None:
    # Qwen 1.5B copied the draft "A film about male nudity." (words_1.5b_v11)
    card = Movie(
        1,
        "Y Tu Mama Tambien",
        2001,
        ("Drama",),
        keywords=("male nudity", "sex", "based on novel", "road trip", "friendship"),
    )
    seen = Movie(2, "Thelma & Louise", 1991, ("Drama",), keywords=("road trip", "female nudity"))
    facts = build_evidence(card, [seen]).facts
    assert [(f.kind, f.value) for f in facts] == [
        ("keyword", "road trip"), ("theme", "friendship"), ("genre", "Drama"), ("year", "2001")
    ]  # fmt: skip


def test_a_person_is_shared_only_in_the_same_role() -> None:
    # The words run's evidence sentence "Directed by Tim Robbins, like Code 46, which you
    # watched." was false: he acts in Code 46.
    card = Movie(1, "Dead Man Walking", 1995, ("Crime", "Drama"), director="Tim Robbins")
    seen = Movie(2, "Code 46", 2003, ("Sci-Fi",), director="Michael Winterbottom",
                 cast=("Tim Robbins", "Samantha Morton"))  # fmt: skip
    evidence = build_evidence(card, [seen])
    assert not [f for f in evidence.facts if f.value == "Tim Robbins"]
    text = evidence_reason(evidence, "en")
    assert "Tim Robbins" not in text
    both = Movie(3, "Bob Roberts", 1992, ("Comedy",), director="Tim Robbins")
    shared = build_evidence(card, [seen, both])
    assert [(f.kind, f.value, f.watched) for f in shared.facts][:1] == [
        ("director", "Tim Robbins", ("Bob Roberts",))
    ]


def test_korean_evidence_puts_english_catalog_words_after_a_genre() -> None:
    # "영화는 'island'를 다루는 주제를 가지고 있고..." quoted the catalog's English keyword.
    card = Movie(1, "Shutter Island", 2010, ("Drama", "Mystery"), keywords=("island",))
    seen = [
        Movie(2, "Jurassic Park", 1993, ("Drama",), keywords=("island",)),
        Movie(3, "Heat", 1995, ("Drama",)),
    ]
    assert [f.kind for f in build_evidence(card, seen).facts] == ["keyword", "genre", "year"]
    ko = build_evidence(card, seen, language="ko")
    assert [f.kind for f in ko.facts] == ["genre", "keyword", "year"]
    lines = evidence_lines(ko, "ko")
    assert lines.startswith("- 드라마 장르 (보신 Heat, Jurassic Park도 같은 장르)")
    assert "island" not in lines and "2010년" in lines
    assert evidence_reason(ko, "ko") == "보신 Heat처럼 드라마 영화예요."
    # With no other specific fact, the keyword still leads (and is shown).
    cast_away = Movie(4, "Cast Away", 2000, ("Adventure",), keywords=("island",))
    alone = build_evidence(card, [cast_away], language="ko")
    assert evidence_lines(alone, "ko").startswith("- 주제 'island' (보신 Cast Away에도 있음)")


def test_a_ticked_title_cited_without_its_aka_part_is_a_cited_fact() -> None:
    # "Inception shares themes with Thesis, which you watched." (Thesis (Tesis) shares the
    # keyword kidnapping) showed the template: the a.k.a. part was required
    thesis = Movie(5570, "Thesis (Tesis)", 1996, ("Drama", "Horror"), keywords=("kidnapping",))
    card = Movie(79132, "Inception", 2010, ("Action", "Sci-Fi"), keywords=("kidnapping", "dream"))
    evidence = build_evidence(card, [thesis])
    assert evidence.cited_in("Inception shares themes with Thesis, which you watched.", [thesis])
    assert evidence.cited_in("보신 Thesis (Tesis)처럼 납치를 다뤄요.", [thesis])
    assert not evidence.cited_in("Inception is a thrilling film you will enjoy.", [thesis])
