"""The copula/appositive detector of benchmarks/copula_claims.py: the issue 21 examples."""

from __future__ import annotations

from benchmarks.copula_claims import false_noun_phrase, noun_phrases

FALSE = [
    "Jennifer Aniston, a Christianity fantasy star, stars in Bruce Almighty.",
    "Ed Harris, a Princeton University aligning with The Firm, brings a similar theme.",
    "Quiz Show is a television show.",
    "Jurassic Park is a theme park set on an island, like The Ring.",
    "Harvey Keitel's performance in Taxi Driver is a fitting match for the drama genre.",
    "Bruce Willis, a boxer, is a star in both Pulp Fiction and Die Hard.",
    "Ed Harris, about to be a Nobel Prize winner, stars in this film.",
]
TRUE = [
    "Total Recall is a Sci-Fi film.",
    "The Incredibles is a superhero film starring Holly Hunter.",
    "Life Is Beautiful is a war film that shares themes with The Great Escape.",
    "The Silence of the Lambs is a suspense thriller that shares themes with Unbreakable.",
    "The movie is a drama about a man in prison, similar to The Chronicles of Riddick.",
    "Erin Brockovich is a biography about a single mother.",
    "A drama about a single mother, with a bomb.",  # no copula or comma before the articles
    "Galaxy Quest is a space-themed comedy.",
]


def test_the_issues_false_phrases_are_found_and_film_phrases_are_not() -> None:
    assert [t for t in FALSE if not false_noun_phrase(t)] == []
    assert [t for t in TRUE if false_noun_phrase(t)] == []


def test_each_phrase_has_its_kind_and_head() -> None:
    assert noun_phrases("Office Space is a film about downsizing, a theme shared with it.") == [
        ("copula", "film", "film"),
        ("appositive", "theme", "theme"),
    ]
    assert noun_phrases("Ed Harris, the star of The Firm, was in it.") == []
