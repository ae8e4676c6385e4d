"""Words that are true, with the real Qwen 2.5-Coder 0.5B (1 thread, greedy, seed 42).

The inputs are the ones that gave false texts in the hand-checked words sample v4
(``benchmarks/data/words_sample100_0.5b_v4.jsonl``): the Korean one-liners of Friday (1995) and
Much Ado About Nothing for the theme "일요일 아침 커피와 함께" invented the Jaws example's
shark (상어); a Korean viewer whose taste names a fake favourite movie ("Galactic Tacos") got a
persona presenting it as their favourite; an English viewer asking for "slow-burn sci-fi, no
horror" was said not to like sci-fi. Each test asserts what the old code broke.
"""

from __future__ import annotations

import json
import re

import pytest

from cinerec.data.types import Movie
from cinerec.llm.backends.llamacpp import LlamaCppBackend
from cinerec.llm.persona import UserProfile, contradicted_sentences, write_persona
from cinerec.llm.posts.checks import movie_facts_text
from cinerec.llm.posts.compose import PostConfig, _Writer
from cinerec.llm.posts.prompts import EXAMPLE_MARKERS, PostCandidate
from tests.llm.conftest import _model_path, require_llama_cpp

pytestmark = pytest.mark.slow

MODEL = "qwen2.5-coder-0.5b"

FRIDAY = Movie(
    69, "Friday", 1995, ("Comedy",), director="F. Gary Gray",
    cast=("Ice Cube", "Chris Tucker", "Nia Long", "Tom Lister Jr.", "John Witherspoon"),
    overview="Craig and Smokey are two guys in Los Angeles hanging out on their porch on a "
    "Friday afternoon, smoking and drinking, looking for something to do.",
    keywords=("rap music", "parents kids relationship", "rapper", "job"),
)  # fmt: skip
MUCH_ADO = Movie(
    497, "Much Ado About Nothing", 1993, ("Comedy", "Romance"), director="Kenneth Branagh",
    cast=("Kenneth Branagh", "Richard Briers", "Michael Keaton"),
    overview="In this Shakespearean farce, Hero and her groom-to-be, Claudio, team up with "
    "Claudio's commanding officer, Don Pedro, the week before their wedding to hatch a "
    "matchmaking scheme. Their targets are sharp-witted duo Benedick and Beatrice -- a tough "
    "task indeed, considering their corresponding distaste for love and each other. "
    "Meanwhile, meddling Don John plots to ruin the wedding.",
    keywords=("shakespeare", "bachelor", "new love", "rage and hate", "lover", "wedding",
              "intrigue"),
)  # fmt: skip


def _m(movie_id: int, title: str, year: int, genres: str) -> Movie:
    return Movie(movie_id, title, year, tuple(genres.split("|")))


# the ticked movies of words v4's pages 5 (Korean, fake title) and 6 (English, sci-fi)
TACOS_HISTORY = [
    _m(223, "Clerks", 1994, "Comedy"),
    _m(2355, "A Bug's Life", 1998, "Adventure|Animation|Children|Comedy"),
    _m(2881, "Double Jeopardy", 1999, "Action|Crime|Drama|Thriller"),
    _m(2959, "Fight Club", 1999, "Action|Crime|Drama|Thriller"),
    _m(2676, "Instinct", 1999, "Drama|Thriller"),
    _m(3752, "Me, Myself & Irene", 2000, "Adventure|Comedy"),
    _m(3174, "Man on the Moon", 1999, "Comedy|Drama"),
    _m(3219, "Pacific Heights", 1990, "Mystery|Thriller"),
]
SCIFI_HISTORY = [
    _m(366, "Wes Craven's New Nightmare", 1994, "Drama|Horror|Mystery|Thriller"),
    _m(788, "The Nutty Professor", 1996, "Comedy|Fantasy|Romance|Sci-Fi"),
    _m(637, "Sgt. Bilko", 1996, "Comedy"),
    _m(653, "Dragonheart", 1996, "Action|Adventure|Fantasy"),
    _m(673, "Space Jam", 1996, "Adventure|Animation|Children|Comedy|Fantasy|Sci-Fi"),
    _m(1356, "Star Trek: First Contact", 1996, "Action|Adventure|Sci-Fi|Thriller"),
    _m(810, "Kazaam", 1996, "Children|Comedy|Fantasy"),
    _m(1359, "Jingle All the Way", 1996, "Children|Comedy"),
]


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    require_llama_cpp()
    model = LlamaCppBackend(_model_path(MODEL), n_threads=1, n_ctx=4096, seed=42, model_name=MODEL)
    model.load()
    return model


def test_korean_one_liners_carry_no_example_noun_their_movie_lacks(
    backend: LlamaCppBackend,
) -> None:
    theme = "일요일 아침 커피와 함께"
    movies = [FRIDAY, MUCH_ADO]
    writer = _Writer(backend, theme, [PostCandidate(m, 1.0) for m in movies], "ko", PostConfig())
    for movie in movies:
        writer.first_review(movie.movie_id)
        replies = [text for call, text in writer.raw if call == f"review {movie.movie_id}"]
        facts = movie_facts_text(movie)
        print(f"\n{movie.title}: {replies}")
        for reply in replies:
            review = json.loads(reply)["review"].casefold()
            leaked = [m for m in EXAMPLE_MARKERS if m in review and m not in facts]
            assert not leaked, (movie.title, review)


def test_a_persona_never_names_the_tastes_fake_title(backend: LlamaCppBackend) -> None:
    profile = UserProfile(
        "Viewer", 30, "female", "내가 제일 좋아하는 영화는 Galactic Tacos야.", "ko"
    )
    persona = write_persona(backend, profile, TACOS_HISTORY, timeout_s=600)
    print(f"\n{persona.raw_text}\n{persona.text}")
    assert persona.raw_text is not None
    assert not re.search(r"galactic|tacos", persona.raw_text, re.IGNORECASE)
    assert not re.search(r"galactic|tacos", persona.text, re.IGNORECASE)


def test_a_persona_never_shows_the_viewer_disliking_what_they_asked_for(
    backend: LlamaCppBackend,
) -> None:
    profile = UserProfile("Viewer", 30, "female", "slow-burn sci-fi, no horror", "en")
    persona = write_persona(backend, profile, SCIFI_HISTORY, timeout_s=600)
    print(f"\n{persona.raw_text}\n{persona.text}\n{persona.repairs}")
    assert not contradicted_sentences(persona.text, profile, SCIFI_HISTORY)
    assert not re.search(r"(don't|doesn't|not) like sci-fi", persona.text, re.IGNORECASE)


@pytest.mark.parametrize(
    ("taste", "language", "avoid"),
    [
        ("slow-burn sci-fi, no horror", "en", "They would rather avoid horror movies."),
        ("SF 영화가 좋아요, 공포는 싫어요", "ko", "공포 영화는 피하고 싶어 해요."),
    ],
)
def test_the_models_persona_names_only_liked_genres_and_the_evidence_says_what_is_avoided(
    backend: LlamaCppBackend, taste: str, language: str, avoid: str
) -> None:
    # SCIFI_HISTORY has a horror film ticked; the taste rejects horror.
    profile = UserProfile("Viewer", 30, None, taste, language)
    persona = write_persona(backend, profile, SCIFI_HISTORY, timeout_s=600)
    print(f"\n{persona.raw_text}\n{persona.text}\n{persona.repairs}")
    raw = json.loads(persona.raw_text or "")["persona"]
    assert not re.search(r"horror|공\s*포|호\s*러|\bnot\b|않|싫", raw, re.IGNORECASE), raw
    assert not persona.fallback and persona.text.endswith(avoid)
