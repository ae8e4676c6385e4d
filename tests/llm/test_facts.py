"""facts: claims extracted from English and Korean text and checked against catalog records."""

from __future__ import annotations

import pytest

from cinerec.data.types import Movie
from cinerec.llm.facts import FactCatalog, TitleIndex, check_text, extract_claims, false_sentences

MATRIX = Movie(
    2571,
    "The Matrix",
    1999,
    ("Action", "Sci-Fi", "Thriller"),
    director="Lilly Wachowski, Lana Wachowski",
    cast=("Keanu Reeves", "Laurence Fishburne"),
    keywords=("virtual reality", "dystopia"),
)
INCEPTION = Movie(
    79132,
    "Inception",
    2010,
    ("Action", "Crime", "Drama", "Mystery", "Sci-Fi", "Thriller", "IMAX"),
    director="Christopher Nolan",
    cast=("Leonardo DiCaprio", "Joseph Gordon-Levitt"),
    keywords=("dream", "heist"),
)
INTERSTELLAR = Movie(109487, "Interstellar", 2014, ("Sci-Fi", "IMAX"), director="Christopher Nolan")
GODFATHER = Movie(858, "Godfather, The", 1972, ("Crime", "Drama"), director="Francis Ford Coppola")
NOTEBOOK = Movie(8533, "Notebook, The", 2004, ("Drama", "Romance"))


def verdicts(text: str, subject: Movie | None = INCEPTION, **kw: object) -> list[tuple]:
    watched = kw.pop("watched", [INTERSTELLAR, GODFATHER])
    out = check_text(text, subject=subject, watched=watched, **kw)  # type: ignore[arg-type]
    return [(c.claim.kind, c.claim.value, c.ok) for c in out]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # the Korean cards: a false genre and a card that argues against itself
        (
            "공포 영화는 피하고 싶어, The Matrix는 공포 영화이므로 좋아하지 않을 거예요.",
            "ko",
            [("title", "The Matrix", True), ("genre", "Horror", False), ("against", "", False)],
        ),
        (
            "Inception은 공포 영화예요.",
            "ko",
            [("title", "Inception", True), ("genre", "Horror", False)],
        ),
        (
            "Inception은 SF 영화예요.",
            "ko",
            [("title", "Inception", True), ("genre", "Sci-Fi", True)],
        ),
        (
            "Inception is a horror film.",
            "en",
            [("title", "Inception", True), ("genre", "Horror", False)],
        ),
        (
            "A mind-bending sci-fi thriller.",
            "en",
            [("genre", "Sci-Fi", True), ("genre", "Thriller", True)],
        ),
    ],
)
def test_genre_attributions_and_arguing_against_the_card(
    text: str, language: str, expected: list[tuple]
) -> None:
    subject = MATRIX if "Matrix" in text else INCEPTION
    assert verdicts(text, subject, language=language) == expected


def test_genre_words_about_the_viewer_are_not_claims() -> None:
    text = "The viewer's taste for slow-burn horror and clever comedies fits Inception's puzzle."
    # the taste itself is a claim of its own kind, checked against the viewer's words
    assert [k for k, _, _ in verdicts(text)] == ["title", "taste"]
    assert (
        verdicts("공포 영화는 싫어하시는 분께 맞는 Inception이에요.", language="ko")[0][0]
        == "title"
    )
    assert all(k != "genre" for k, _, _ in verdicts("SF를 좋아하신다면 볼 만해요.", language="ko"))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Directed by Christopher Nolan.", "en", [("director", "Christopher Nolan", True)]),
        ("Directed by Steven Spielberg.", "en", [("director", "Steven Spielberg", False)]),
        ("Starring Leonardo DiCaprio.", "en", [("cast", "Leonardo DiCaprio", True)]),
        ("Starring Christopher Nolan.", "en", [("cast", "Christopher Nolan", False)]),
        ("Christopher Nolan 감독의 영화예요.", "ko", [("director", "Christopher Nolan", True)]),
        ("Keanu Reeves 주연의 영화예요.", "ko", [("cast", "Keanu Reeves", False)]),
        ("크리스토퍼 놀란 감독의 영화예요.", "ko", [("director", "크리스토퍼 놀란", None)]),
        # a particle glued to the name ("Nolan의") is no part of it: the claim is checked
        ("감독 Christopher Nolan의 영화예요.", "ko", [("director", "Christopher Nolan", True)]),
        ("감독 Steven Spielberg의 영화예요.", "ko", [("director", "Steven Spielberg", False)]),
        ("출연 Keanu Reeves는 멋져요.", "ko", [("cast", "Keanu Reeves", False)]),
        ("Leonardo DiCaprio가 출연해요.", "ko", [("cast", "Leonardo DiCaprio", True)]),
        ("Released in 2010, it still thrills.", "en", [("year", "2010", True)]),
        ("1999년 작품이에요.", "ko", [("year", "1999", False)]),
    ],
)
def test_people_roles_and_years(text: str, language: str, expected: list[tuple]) -> None:
    assert verdicts(text, language=language) == expected


def test_cited_movies_must_be_ticked_and_share_something_with_the_card() -> None:
    ok = "Directed by Christopher Nolan, like Interstellar, which you watched."
    assert ("title", "Interstellar", True) in verdicts(ok)
    # ticked, but sharing nothing with the card: a false citation
    notebook = verdicts("Romantic like The Notebook.", watched=[NOTEBOOK], subject=MATRIX)
    assert ("title", "Notebook, The", False) in notebook
    # not ticked (found in the catalog) and another card of the page: both false
    catalog = FactCatalog([MATRIX, INCEPTION, INTERSTELLAR, GODFATHER, NOTEBOOK])
    assert ("title", "The Matrix", False) in verdicts("As sharp as The Matrix.", catalog=catalog)
    page = verdicts("The Matrix is a great pick.", page=[MATRIX])
    assert page == [("title", "The Matrix", False)]
    assert (
        "another card"
        in check_text("The Matrix rules.", subject=INCEPTION, watched=[], page=[MATRIX])[0].why
    )


def test_a_ticked_movie_named_in_full_is_not_a_card_sharing_its_short_title() -> None:
    # the Korean browser page: Star Wars IV ticked, a Star Wars sequel among the cards
    new_hope = Movie(260, "Star Wars: Episode IV - A New Hope", 1977, ("Action", "Sci-Fi"))
    empire = Movie(1196, "Star Wars: Episode V - The Empire Strikes Back", 1980, ("Action",))
    iron_man = Movie(59315, "Iron Man", 2008, ("Action", "Sci-Fi"))
    text = "보신 Star Wars: Episode IV - A New Hope처럼 액션 영화예요."
    said = check_text(text, subject=iron_man, watched=[new_hope], language="ko",
                      page=[iron_man, empire])  # fmt: skip
    assert [(c.claim.value, c.ok) for c in said if c.claim.kind == "title"] == [
        ("Star Wars: Episode IV - A New Hope", True)
    ]
    named = "Star Wars: Episode V - The Empire Strikes Back is next."
    wrong = check_text(named, subject=iron_man, watched=[new_hope], page=[iron_man, empire])
    assert [c.why for c in wrong if c.claim.kind == "title"] == ["another card's movie"]


def test_persona_pronouns_tags_formatting_and_genres() -> None:
    history = [INCEPTION, INTERSTELLAR]
    text = (
        "Viewer loves sci-fi and mystery. He watches IMAX most. "
        "Viewer likes [Action, Sci-Fi, Thriller]. Viewer enjoys westerns."
    )
    got = check_text(text, subject=None, watched=history, persona=True, gender=None)
    assert false_sentences(got) == {1, 2, 3}
    kinds = {(c.claim.kind, c.ok) for c in got}
    assert {("pronoun", False), ("tag", False), ("format", False), ("genre", False)} <= kinds
    she = check_text(
        "She loves sci-fi.", subject=None, watched=history, persona=True, gender="female"
    )
    assert false_sentences(she) == set()
    ko = check_text(
        "그는 SF를 즐겨 봐요.", subject=None, watched=history, language="ko", persona=True
    )
    assert ("pronoun", False) in {(c.claim.kind, c.ok) for c in ko}
    male = check_text("Viewer is a 30-year-old male.", subject=None, watched=[], persona=True)
    assert [c.ok for c in male] == [False]


def test_titles_inside_korean_text_and_inverted_articles() -> None:
    index = TitleIndex((), trusted=["Godfather, The", "Heat"])
    assert [t for _, _, t in index.find("The Godfather를 좋아하셨다면")] == ["Godfather, The"]
    assert index.find("the heat of the night") == []  # lower case: a word, not the title
    # the rest of the catalog: two or more capitalised words, no colon short forms
    catalog = TitleIndex(["Henry", "Crew, The", "Judd Apatow: The Return", "Fight Club"])
    text = "Henry joins the crew, as Judd Apatow did, unlike The Crew or Fight Club."
    assert [t for _, _, t in catalog.find(text)] == ["Crew, The", "Fight Club"]
    claims = extract_claims("Like Heat, it is tense.", index)
    assert [(c.kind, c.value) for c in claims] == [("title", "Heat")]


def test_a_movie_cited_as_watched_must_be_ticked_and_years_belong_to_the_card() -> None:
    liked = "Inception을 좋아하셨다면 이 영화도 마음에 드실 거예요."
    assert ("watched", "Inception", False) in verdicts(liked, language="ko")
    ticked = verdicts("If you liked Interstellar, this one is for you.")
    assert ("watched", "Interstellar", True) in ticked
    # "1991년 작품" is the card's year even after another title in the sentence
    t2 = Movie(589, "Terminator 2: Judgment Day", 1991, ("Action", "Sci-Fi"))
    text = "SF 장르의 Interstellar와 유사하며, 1991년에 출시된 작품이에요."
    assert ("year", "1991", True) in verdicts(text, subject=t2, language="ko")
    # a Korean line about no viewer: a bare genre word is the movie's
    line = verdicts("스릴러와 꿈은 탐험 이야기.", subject=INTERSTELLAR, language="ko")
    assert ("genre", "Thriller", False) in line


def test_a_citation_id_is_no_year() -> None:
    # The chat showed "Gremlins [#2003]은(는) 1984년에 개봉했습니다." and the checker read 2003.
    gremlins = Movie(2003, "Gremlins", 1984, ("Comedy", "Horror"))
    claims = verdicts(
        "Gremlins [#2003]은(는) 1984년에 개봉했습니다.", subject=gremlins, language="ko"
    )
    assert [c for c in claims if c[0] == "year"] == [("year", "1984", True)]


def test_arguing_against_in_korean_and_gender_words_inside_titles() -> None:
    for text in (
        "1989년 작품으로서 보지 말 수 있습니다.",
        "장르와 연도가 같아 보지 않을 수 있습니다.",
    ):
        assert ("against", "", False) in verdicts(text, language="ko")
    moon = Movie(3, "Man on the Moon", 1999, ("Comedy", "Drama"))
    got = check_text(
        "Viewer recently watched Man on the Moon.",
        subject=None,
        watched=[moon],
        persona=True,
        gender="female",
    )
    assert all(c.ok is not False for c in got)


def test_movies_sharing_a_title_are_told_apart_by_the_subject_or_left_undecided() -> None:
    from cinerec.llm.facts import false_facts

    heat95 = Movie(4, "Heat", 1995, ("Action", "Crime"), director="Michael Mann")
    heat86 = Movie(5, "Heat", 1986, ("Action",))
    both = [heat95, heat86]
    assert false_facts("Heat (1995) is a crime film.", both, subject=heat95) == []
    assert false_facts("Heat (1995) is a crime film.", both) == []  # which Heat: undecided
    wrong = false_facts("Heat (1986) is a crime film.", both, subject=heat86)
    assert [c.claim.kind for c in wrong] == ["genre"]


def test_a_sequel_titled_after_its_first_film_is_judged_by_its_own_record() -> None:
    from cinerec.llm.facts import false_facts

    first = Movie(1, "The Hunger Games", 2012, ("Action",))
    second = Movie(2, "The Hunger Games: Catching Fire", 2013, ("Action",))
    text = "The Hunger Games (2012) [#1] and The Hunger Games: Catching Fire (2013) [#2]."
    assert false_facts(text, [first, second]) == []


def test_a_year_inside_a_title_is_no_year_claim() -> None:
    # The Korean chat draft "2001: A Space Odyssey (1968) [#924]의 감독은 Stanley Kubrick입니다."
    # was refused: the checker read the title's 2001 as the movie's year.
    odyssey = Movie(924, "2001: A Space Odyssey", 1968, ("Sci-Fi",), director="Stanley Kubrick")
    for text, language in (
        ("2001: A Space Odyssey (1968) [#924]의 감독은 Stanley Kubrick입니다.", "ko"),
        ("2001: A Space Odyssey (1968) was directed by Stanley Kubrick.", "en"),
    ):
        claims = verdicts(text, subject=odyssey, language=language)
        assert [c for c in claims if c[0] == "year"] == [("year", "1968", True)], claims
    # A wrong year written after the title is still false.
    wrong = verdicts("2001: A Space Odyssey came out in 1975.", subject=odyssey)
    assert ("year", "1975", False) in wrong


def test_a_title_inside_a_ticked_title_written_in_full_is_that_ticked_movie() -> None:
    # words v5: the checker rejected two true personas. "Hot Shots! Part Deux" (ticked) was
    # read as Hot Shots! (1991), because "!" ends a sentence; "the Amazing Spider-Man" (ticked)
    # as Spider-Man (2002), because "the" is lower-case.
    deux = Movie(3868, "Hot Shots! Part Deux", 1993, ("Action", "Comedy", "War"))
    first = Movie(2000, "Hot Shots!", 1991, ("Action", "Comedy", "War"))
    amazing = Movie(95510, "The Amazing Spider-Man", 2012, ("Action", "Adventure"))
    spider = Movie(5349, "Spider-Man", 2002, ("Action", "Adventure"))
    catalog = FactCatalog([deux, first, amazing, spider])
    for text, ticked in (
        ("They enjoy the Hot Shots! Part Deux (1993) a lot.", deux),
        ("They enjoy watching the Amazing Spider-Man and more.", amazing),
    ):
        got = verdicts(text, subject=None, watched=[ticked], catalog=catalog, persona=True)
        assert got == [("title", ticked.title, True)], (text, got)
    # the shorter title on its own is still another movie
    for text, ticked in (
        ("They enjoy Spider-Man.", amazing),
        ("They enjoy Hot Shots! a lot.", deux),
    ):
        got = verdicts(text, subject=None, watched=[ticked], catalog=catalog, persona=True)
        assert [ok for _, _, ok in got] == [False], (text, got)


def test_a_taste_the_viewer_never_stated_is_false_and_a_stated_one_holds() -> None:
    # Qwen 1.5B: "Sci-Fi fits your taste for oxygen." (a keyword of the card, not of the taste)
    def taste_claims(text: str, taste: str | None, language: str = "en") -> list[bool | None]:
        checked = check_text(text, subject=MATRIX, watched=[], language=language, taste=taste)
        return [c.ok for c in checked if c.claim.kind == "taste"]

    taste = "slow-burn sci-fi and clever heist thrillers, no horror"
    assert taste_claims("Sci-Fi fits your taste for oxygen.", taste) == [False]
    assert taste_claims("It fits your taste for slow-burn sci-fi.", taste) == [True]
    assert taste_claims("A dystopia for the viewer's love of thrillers.", taste) == [True]
    said = "It fits your taste for sci-fi and features Keanu Reeves."  # the taste ends at "and"
    assert taste_claims(said, taste) == [True]
    assert taste_claims("Sci-Fi fits your taste for oxygen.", "") == [False]
    assert taste_claims("Sci-Fi fits your taste for oxygen.", None) == [None]  # a chat answer
    korean = "느리게 전개되는 SF를 좋아해요"
    assert taste_claims("좋아한다고 하신 SF 취향에 맞는 영화예요.", korean, "ko") == [True]
    assert taste_claims("좋아한다고 하신 공포 취향에 맞는 영화예요.", korean, "ko") == [False]


def test_an_english_taste_for_a_genre_of_the_ticks_holds_and_a_stated_one_only_in_korean() -> None:
    # the gold set's reader took "The viewer's taste for crime" as the taste the ticks show
    def taste_claims(text: str, language: str = "en") -> list[bool | None]:
        checked = check_text(
            text, subject=MATRIX, watched=[GODFATHER], language=language, taste="no horror"
        )
        return [c.ok for c in checked if c.claim.kind == "taste"]

    assert taste_claims("The viewer's taste for crime films fits it.") == [True]
    assert taste_claims("It fits your taste for romance.") == [False]  # no ticked romance
    assert taste_claims("Sci-Fi fits your taste for oxygen.") == [False]  # no genre at all
    assert taste_claims("좋아한다고 하신 범죄 취향에 맞는 영화예요.", "ko") == [False]  # not said


FIGHT_CLUB = Movie(
    2959,
    "Fight Club",
    1999,
    ("Drama",),
    director="David Fincher",
    cast=("Brad Pitt", "Edward Norton"),
)
GREAT_ESCAPE = Movie(
    1287, "Great Escape, The", 1963, ("War",), director="John Sturges", cast=("Steve McQueen",)
)
SNATCH = Movie(4011, "Snatch", 2000, ("Crime",), director="Guy Ritchie", cast=("Brad Pitt",))
TIGERLAND = Movie(4027, "Tigerland", 2000, ("Drama",), director="Joel Schumacher")


@pytest.mark.parametrize(
    "text",
    [
        "They like Brad Pitt's movies, including Fight Club, Snatch and The Great Escape.",
        "They like movies starring Brad Pitt, such as Fight Club and The Great Escape.",
        "They watch Brad Pitt movies like Fight Club, The Great Escape, and Snatch.",
        # a title the index does not know ("Twelve Monkeys") does not end the list
        "They saw Brad Pitt's movies, including Fight Club, Twelve Monkeys, The Great Escape.",
    ],
)
def test_a_persons_listed_movies_are_each_their_cast_or_director(text: str) -> None:
    # Qwen 1.5B's persona (words_1.5b_v11): "They have seen several of Brad Pitt'smovies,
    # including Fight Club, Léon: The Professional, ..., The Great Escape, Snatch"
    history = [FIGHT_CLUB, GREAT_ESCAPE, SNATCH]
    got = check_text(text, subject=None, watched=history, persona=True)
    people = {(c.claim.movie, c.ok) for c in got if c.claim.kind == "person"}
    assert ("The Great Escape", False) in people or ("Great Escape, The", False) in people
    assert ("Fight Club", True) in people
    assert false_sentences(got) == {0}


def test_a_persons_list_holds_for_a_director_and_is_unchecked_without_a_cast() -> None:
    history = [FIGHT_CLUB, SNATCH, TIGERLAND]
    text = (
        "They love Brad Pitt's films, such as Fight Club and Snatch. "
        "David Fincher films like Fight Club."
    )
    got = check_text(text, subject=None, watched=history, persona=True)
    assert false_sentences(got) == set()
    assert [c.ok for c in got if c.claim.kind == "person"] == [True, True, True]
    unknown = check_text(
        "They like Brad Pitt movies like Tigerland.", subject=None, watched=history, persona=True
    )
    assert [(c.claim.kind, c.ok) for c in unknown if c.claim.kind == "person"] == [("person", None)]


# Words v19's hand-checked sample: three false English texts, none flagged by the checker.
TRAINSPOTTING = Movie(
    778,
    "Trainspotting",
    1996,
    ("Comedy", "Crime", "Drama"),
    director="Danny Boyle",
    cast=("Ewan McGregor", "Ewen Bremner", "Jonny Lee Miller"),
)
EMMA = Movie(838, "Emma", 1996, ("Comedy", "Drama", "Romance"))
BEAUTIFUL_MIND = Movie(
    4995,
    "A Beautiful Mind",
    2001,
    ("Drama", "Romance"),
    director="Ron Howard",
    cast=("Russell Crowe", "Ed Harris"),
    keywords=("princeton university",),
)


def test_a_ticked_title_listed_as_a_cast_member_is_false() -> None:
    said = verdicts(
        "Trainspotting is a crime film starring Jonny Lee Miller and Emma, which you have watched.",
        subject=TRAINSPOTTING,
        watched=[EMMA],
    )
    assert ("cast", "Jonny Lee Miller", True) in said
    assert ("cast", "Emma", False) in said
    # a one-word name that is part of a listed name holds
    assert ("cast", "McGregor", True) in verdicts(
        "Trainspotting stars Jonny Lee Miller and McGregor.", subject=TRAINSPOTTING, watched=[]
    )


def test_a_person_of_the_record_called_something_that_is_no_role_is_false() -> None:
    said = verdicts(
        "Ed Harris, a Princeton University aligning with The Firm, brings a similar theme.",
        subject=BEAUTIFUL_MIND,
        watched=[],
    )
    assert ("appositive", "Ed Harris", False) in said
    # a role, or a name the record does not have (a character), is no such claim
    assert not [
        v
        for v in verdicts(
            "Ed Harris, a supporting actor here, and John Nash, a mathematician.",
            subject=BEAUTIFUL_MIND,
            watched=[],
        )
        if v[2] is False
    ]


def test_a_personas_genre_of_what_they_watched_must_be_watched_not_only_liked() -> None:
    star_wars = Movie(1196, "Star Wars: Episode V", 1980, ("Action", "Adventure", "Sci-Fi"))
    toy_story = Movie(1, "Toy Story", 1995, ("Adventure", "Animation", "Children", "Comedy"))
    text = (
        "This viewer watches mostly adventure, action and animation movies, with several of "
        "their movies also being romance. They enjoy romance."
    )
    said = verdicts(
        text, subject=None, watched=[star_wars, toy_story], persona=True,
        taste="quirky indie romances",
    )  # fmt: skip
    assert ("ticked_genre", "Adventure", True) in said
    assert ("ticked_genre", "Romance", False) in said  # none of the ticked movies is one
    assert ("genre", "Romance", True) in said  # "They enjoy romance": the taste says so
    assert ("genre", "Comedy", True) in verdicts(
        "This viewer enjoys watching comedy.", subject=None, watched=[toy_story], persona=True
    )


def test_a_personas_role_claim_about_no_named_movie_is_checked_against_the_ticks() -> None:
    pitt = Movie(4963, "Ocean's Eleven", 2001, ("Crime",), director="Steven Soderbergh",
                 cast=("George Clooney", "Brad Pitt"))  # fmt: skip
    jurassic = Movie(4638, "Jurassic Park III", 2001, ("Sci-Fi",), cast=("Sam Neill",))
    said = verdicts(
        "They are drawn to films featuring Brad Pitt, and fond of movies such as Jurassic "
        "Park III. They like films featuring Sam Neill and Steven Soderbergh.",
        subject=None, watched=[pitt, jurassic], persona=True,
    )  # fmt: skip
    assert ("cast", "Brad Pitt", True) in said  # in a ticked movie, not in the title after it
    assert ("cast", "Sam Neill", True) in said
    assert ("cast", "Steven Soderbergh", False) in said  # he directed


def test_a_year_in_a_sentence_saying_the_catalog_lacks_the_movie_is_no_claim() -> None:
    parasite = Movie(2256, "Parasite", 1982, ("Horror",))
    for text, language in (
        ("카탈로그에 Parasite (2019)에 대한 정보가 없어 답할 수 없습니다.", "ko"),
        ("카탈로그에 Parasite (2019)이(가) 없어 답할 수 없습니다.", "ko"),
        ("The catalog does not have Parasite (2019), so I cannot answer.", "en"),
    ):
        said = verdicts(text, subject=None, watched=[], page=[parasite], language=language)
        assert not [v for v in said if v[0] == "year"], said
    assert ("year", "2019", False) in verdicts(
        "Parasite (2019) is a horror film.", subject=None, watched=[], page=[parasite]
    )


def test_a_person_called_a_role_by_a_keyword_of_the_movie_is_false() -> None:
    # words v15en and v20 (read blind): "Jennifer Aniston, a Christianity fantasy star"
    bruce = Movie(
        6373,
        "Bruce Almighty",
        2003,
        ("Comedy", "Drama", "Fantasy", "Romance"),
        cast=("Jim Carrey", "Jennifer Aniston"),
        keywords=("christianity", "god"),
    )
    said = verdicts(
        "Jennifer Aniston, a Christianity fantasy star, is in Bruce Almighty.",
        subject=bruce, watched=[],
    )  # fmt: skip
    assert ("appositive", "Jennifer Aniston", False) in said
    assert ("appositive", "Jim Carrey", True) in verdicts(
        "Jim Carrey, a comedy star, leads Bruce Almighty.", subject=bruce, watched=[]
    )


def test_a_cards_subtitle_written_alone_is_the_card_not_a_movie_inside_it() -> None:
    # words v21ko: "... Johnny Depp의 출연작 Dead Man's Chest에 대한 ..." read as "Dead Man" (1995)
    pirates = Movie(45722, "Pirates of the Caribbean: Dead Man's Chest", 2006, ("Adventure",))
    dead_man = Movie(4225, "Dead Man", 1995, ("Western",))
    catalog = FactCatalog([pirates, dead_man])
    said = check_text(
        "배우 Johnny Depp의 출연작 Dead Man's Chest에 대한 영화예요.",
        subject=pirates, watched=[], language="ko", catalog=catalog,
    )  # fmt: skip
    assert [c.ok for c in said if c.claim.kind == "title"] == [True]


def test_a_persona_crediting_a_director_with_a_ticked_movie_he_did_not_make_is_false() -> None:
    # the browser test's English page: Ridley Scott did not direct The Matrix
    alien = Movie(1214, "Alien", 1979, ("Horror", "Sci-Fi"), director="Ridley Scott")
    runner = Movie(541, "Blade Runner", 1982, ("Sci-Fi",), director="Ridley Scott")
    text = (
        "They are particularly fond of Ridley Scott's work, who directed several of their "
        "favorite movies, including The Matrix, Blade Runner, and Alien."
    )
    said = verdicts(text, subject=None, watched=[MATRIX, alien, runner], persona=True)
    assert ("person", "Ridley Scott", False) in said  # The Matrix
    assert said.count(("person", "Ridley Scott", True)) == 2


@pytest.mark.parametrize(
    ("text", "runner_genres", "expected"),
    [
        # the browser test's English page: Alien is Horror, Sci-Fi
        (
            "They particularly enjoy Ridley Scott's Blade Runner and Alien, which are both action "
            "and sci-fi films.",
            ("Action", "Sci-Fi"),
            [("Action", False), ("Action", True)],
        ),
        # the same page, later
        (
            "They are particularly fond of Ridley Scott's films, Blade Runner and Alien, which "
            "they enjoy watching as action, sci-fi, and thriller movies.",
            ("Action", "Sci-Fi", "Thriller"),
            [("Action", False), ("Thriller", False)],
        ),
    ],
)
def test_a_personas_genre_said_of_named_ticked_movies_must_hold_for_each(
    text: str, runner_genres: tuple[str, ...], expected: list[tuple[str, bool]]
) -> None:
    alien = Movie(1214, "Alien", 1979, ("Horror", "Sci-Fi"), director="Ridley Scott")
    runner = Movie(541, "Blade Runner", 1982, runner_genres, director="Ridley Scott")
    said = verdicts(text, subject=None, watched=[MATRIX, alien, runner], persona=True)
    genres = [(v, ok) for kind, v, ok in said if kind == "genre"]
    assert genres.count(("Sci-Fi", True)) == 2
    assert all(pair in genres for pair in expected), genres
