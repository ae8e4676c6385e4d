"""One chat turn end to end on SQLite with a fake model: retrieval, memory, grounding, storage."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cinerec.config import LLMBackendName, Settings
from cinerec.data.types import Movie
from cinerec.db import conversations as conv
from cinerec.db import repository as repo
from cinerec.db.repository import upsert_movies
from cinerec.errors import LLMError, NotFoundError, ValidationError
from cinerec.llm.backends.base import Message
from cinerec.llm.backends.cancel import CancelToken
from cinerec.llm.chat.prompt import ChatConfig
from cinerec.services import chat
from cinerec.services.chat import ChatServiceConfig, chat_turn, run_turn, start_turn
from cinerec.services.chat_facts import detect_intent, request_taste
from cinerec.services.platform import Platform
from tests.llm.fakes import FakeBackend, TokenFake
from tests.services.test_retrieval import MOVIES, POPULARITY

HORROR = Movie(
    20, "Scream", 1996, ("Horror", "Mystery"), director="Wes Craven", cast=("Neve Campbell",)
)
CONFIG = ChatServiceConfig(background_upkeep=False, prefill=False, summarize_with_model=False)


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


def _platform(tmp_path: Path, llm: object, **settings: object) -> Platform:
    values: dict[str, object] = {
        "home": tmp_path / "home",
        "cache_dir": tmp_path / "cache",
        "llm_backend": LLMBackendName.NONE,
        **settings,
    }
    platform = Platform(Settings(**values), llm=llm)  # type: ignore[arg-type]
    platform.migrate()
    with platform.session() as session:
        upsert_movies(session, movies=[*MOVIES, HORROR], popularity={**POPULARITY, 20: 500})
    return platform


@pytest.fixture
def platform(tmp_path: Path, fake: FakeBackend) -> Iterator[Platform]:
    platform = _platform(tmp_path, fake)
    yield platform
    platform.engine.dispose()


def _user(platform: Platform, *, taste: str = "", watched: tuple[int, ...] = ()) -> int:
    with platform.session() as session:
        user_id = repo.create_user(
            session,
            token_hash="t" * 64,
            name="Minji",
            age=29,
            gender=None,
            taste=taste,
            language="en",
        )
        for movie_id in watched:
            repo.set_watched(session, user_id=user_id, movie_id=movie_id, rating=5.0)
    return user_id


def _messages(platform: Platform, user_id: int, conversation_id: int) -> list[conv.MessageRecord]:
    with platform.session() as session:
        return conv.list_messages(session, conversation_id=conversation_id, user_id=user_id)


def test_a_fact_question_is_answered_from_retrieved_facts(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    fake.queue(
        "Memento (2000) [#1] was directed by Christopher Nolan. "
        "He also made Fake Movie 3000. The Prestige (2006) [#3] is his too. And [#99]."
    )
    message = "Tell me about Memento and The Prestige."
    answer = chat_turn(platform, user_id=user_id, message=message, config=CONFIG)
    prompt = fake.calls[0].messages
    assert prompt[0].role == "system" and "Minji" in prompt[0].content
    assert (
        "[#1] Memento (2000); Mystery, Thriller; directed by Christopher Nolan"
        in prompt[-1].content
    )
    assert answer.text == (
        "Memento (2000) [#1] was directed by Christopher Nolan. "
        "The Prestige (2006) [#3] is his too."
    )
    assert answer.cited_ids == (1, 3) and [m.movie_id for m in answer.cited] == [1, 3]
    assert "unknown_title" in answer.flags and "unknown_citation" in answer.flags
    assert (
        {1, 3} <= set(answer.retrieved_ids[:2])
        and not answer.fallback
        and answer.model == "fake-model"
    )
    assert answer.intent == "facts" and answer.language == "en" and answer.prompt_tokens > 50
    stored = _messages(platform, user_id, answer.conversation_id)
    assert [(m.role, m.content) for m in stored] == [
        ("user", message),
        ("assistant", answer.text),
    ]
    assert stored[1].cited_ids == (1, 3) and stored[1].id == answer.message_id


def test_events_stream_checked_text_then_the_final_answer(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    fake.queue("Heat (1995) [#4] stars Al Pacino. Watch Totally Fake Film (2031) instead. ")
    state = start_turn(platform, user_id=user_id, message="Who is in Heat?", config=CONFIG)
    events = list(run_turn(platform, state))
    kinds = [e.kind for e in events]
    assert kinds[0] == "meta" and kinds[-1] == "done" and set(kinds[1:-1]) == {"token"}
    assert events[0].data["retrieved"][0] == {"id": 4, "title": "Heat (1995)"}
    streamed = "".join(e.data["text"] for e in events if e.kind == "token")
    done = events[-1].data
    assert streamed == done["answer"] == "Heat (1995) [#4] stars Al Pacino."
    assert "Fake" not in streamed and done["cited"][0]["url"] == "/movies/4"
    assert done["timings"]["first_token"] <= done["timings"]["total"]
    # the model's own text is kept for measurement, and never sent to the user
    assert state.result is not None and "Totally Fake Film" in state.result.raw_text
    assert "raw_text" not in done and "Fake" not in json.dumps(done)


def test_a_follow_up_uses_the_movies_just_discussed(platform: Platform, fake: FakeBackend) -> None:
    user_id = _user(platform)
    fake.queue("Christopher Nolan directed Memento (2000) [#1].", "It stars Guy Pearce [#1].")
    first = chat_turn(platform, user_id=user_id, message="Who directed Memento?", config=CONFIG)
    second = chat_turn(
        platform,
        user_id=user_id,
        message="And who starred in it?",
        conversation_id=first.conversation_id,
        config=CONFIG,
    )
    assert first.text == "Christopher Nolan directed Memento (2000) [#1]." and first.kind == "fact"
    assert "Guy Pearce" in fake.calls[1].messages[-1].content  # the facts of "it"
    assert second.kind == "fact" and second.cited_ids == (1,)
    assert second.conversation_id == first.conversation_id and not second.fallback


def test_old_turns_are_folded_into_a_summary_and_the_prompt_stays_bounded(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    config = ChatServiceConfig(
        chat=ChatConfig(recent_min=2, recent_max=4),
        background_upkeep=False,
        prefill=False,
        summarize_with_model=False,
    )
    questions = ["Who directed Memento?", "Who directed Heat?", "Tell me about Up", "Inception?"]
    conversation_id = None
    for question in questions:
        fake.queue("Memento (2000) [#1] is a thriller.")
        answer = chat_turn(
            platform,
            user_id=user_id,
            message=question,
            conversation_id=conversation_id,
            config=config,
        )
        conversation_id = answer.conversation_id
    with platform.session() as session:
        record = conv.get_conversation(session, conversation_id=conversation_id, user_id=user_id)
    assert record is not None and record.summarized_upto > 0
    assert "Who directed Memento?" in record.summary and "Memento (2000) [#1]" in record.summary
    last_prompt = fake.calls[-1].messages
    assert len(last_prompt) <= 1 + 4 + 1  # system, at most recent_max turns, the question
    assert "Earlier in this chat: The viewer asked: Who directed Memento?" in last_prompt[0].content
    assert len(_messages(platform, user_id, conversation_id)) == 8  # nothing is deleted


def test_the_summary_can_be_written_by_the_model(platform: Platform, fake: FakeBackend) -> None:
    user_id = _user(platform)
    config = ChatServiceConfig(
        chat=ChatConfig(recent_min=2, recent_max=2), background_upkeep=False, prefill=False
    )
    fake.queue("Memento (2000) [#1] is by Christopher Nolan.")
    first = chat_turn(platform, user_id=user_id, message="Who directed Memento?", config=config)
    fake.queue(
        "Heat (1995) [#4] is by Michael Mann.",
        "The viewer asked about Memento [#1] by Christopher Nolan. They loved Fake Movie 3000.",
    )
    chat_turn(
        platform,
        user_id=user_id,
        message="Who directed Heat?",
        conversation_id=first.conversation_id,
        config=config,
    )
    with platform.session() as session:
        record = conv.get_conversation(
            session, conversation_id=first.conversation_id, user_id=user_id
        )
    assert record is not None and "Memento [#1]" in record.summary
    assert "Fake Movie" not in record.summary


def test_a_failing_model_gives_a_flagged_answer_listing_the_facts(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    fake.queue(LLMError("the model crashed"))
    answer = chat_turn(platform, user_id=user_id, message="Who directed Memento?", config=CONFIG)
    assert answer.fallback and "fallback" in answer.flags and answer.model == "template"
    assert "Memento (2000) [#1]" in answer.text and "directed by Christopher Nolan" in answer.text
    assert 1 in answer.cited_ids
    assert _messages(platform, user_id, answer.conversation_id)[-1].flags == answer.flags


def test_without_a_model_the_facts_are_listed(tmp_path: Path) -> None:
    platform = _platform(tmp_path, None)
    user_id = _user(platform)
    answer = chat_turn(platform, user_id=user_id, message="메멘토 감독은?", config=CONFIG)
    assert answer.fallback and answer.language == "ko"
    # Resolved in code: the answer comes from the database, in Korean, flagged as a fallback.
    assert answer.text == "Memento (2000) [#1]의 감독은 Christopher Nolan입니다."
    assert "no_model" in answer.flags and answer.kind == "fact"


class SlowBackend(FakeBackend):
    """Streams one word every ``delay`` seconds, forever (until closed)."""

    delay: float = 0.05
    closed: bool = False

    def stream(self, messages, *, max_tokens=256, temperature=0.0):  # type: ignore[no-untyped-def]
        self.calls.append(chat_fake_call(messages))
        try:
            while True:
                time.sleep(self.delay)
                yield "Memento (2000) [#1] is good. "
        finally:
            self.closed = True


def chat_fake_call(messages: list[Message]):  # type: ignore[no-untyped-def]
    from tests.llm.fakes import FakeCall

    return FakeCall(list(messages), None, 0, 0.0, None)


def test_the_deadline_cuts_a_runaway_answer(tmp_path: Path) -> None:
    slow = SlowBackend()
    platform = _platform(tmp_path, slow, llm_timeout_s=0.4)
    user_id = _user(platform)
    answer = chat_turn(platform, user_id=user_id, message="Tell me about Memento.", config=CONFIG)
    assert "timeout" in answer.flags and slow.closed
    assert answer.text.startswith("Memento (2000) [#1] is good.")


def test_a_consumer_that_stops_early_still_stores_the_answer(tmp_path: Path) -> None:
    slow = SlowBackend()
    platform = _platform(tmp_path, slow)
    user_id = _user(platform)
    state = start_turn(platform, user_id=user_id, message="Tell me about Memento.", config=CONFIG)
    events = run_turn(platform, state)
    assert next(events).kind == "meta"
    assert next(events).kind == "token"
    events.close()
    assert slow.closed
    stored = _messages(platform, user_id, state.conversation_id)
    assert stored[-1].role == "assistant" and "interrupted" in stored[-1].flags


def test_a_cancelled_turn_stops_the_model_and_stores_the_flagged_fallback(tmp_path: Path) -> None:
    model = TokenFake(token_s=0.02)  # 256 words: 5 s uncancelled
    platform = _platform(tmp_path, model)
    user_id = _user(platform)
    state = start_turn(platform, user_id=user_id, message="Tell me about Memento.", config=CONFIG)
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel, args=("the client disconnected",)).start()
    start = time.monotonic()
    events = list(run_turn(platform, state, cancel=cancel))
    assert time.monotonic() - start < 1.5 and model.generated < 60
    assert events[-1].kind == "done" and not model.running.is_set()
    answer = events[-1].data
    assert answer["fallback"] and "interrupted" in answer["flags"]
    assert state.result is not None and "[#1]" in state.result.text  # the retrieved facts
    stored = _messages(platform, user_id, state.conversation_id)
    assert stored[-1].role == "assistant" and "interrupted" in stored[-1].flags


def test_recommendations_come_from_the_pool_without_watched_or_disliked_movies(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform, taste="no horror", watched=(4,))
    fake.queue("Try Up (2009) [#6]: it is light and funny.")
    answer = chat_turn(
        platform,
        user_id=user_id,
        message="Recommend something like Inception but lighter",
        config=CONFIG,
    )
    assert answer.intent == "recommend"
    sent = fake.calls[0].messages[-1].content
    assert sent.startswith("Candidates for this viewer")
    assert (
        "[#4]" not in sent and "[#2]" not in sent and "[#20]" not in sent
    )  # watched, named, horror
    assert 6 in answer.retrieved_ids[:2]  # Adventure + Animation: "lighter" lifts it
    assert answer.cited_ids == (6,) and 4 not in answer.retrieved_ids


def test_intent_and_taste_rules() -> None:
    assert detect_intent("Can you recommend a thriller?") == "recommend"
    assert detect_intent("볼만한 영화 추천해줘") == "recommend"
    assert detect_intent("인셉션 같은 영화 있어?") == "recommend"
    assert detect_intent("Who directed Memento?") == "facts"
    assert detect_intent("메멘토는 몇 년에 개봉했어?") == "facts"
    light = request_taste("no horror", "something lighter")
    assert "Comedy" in light.liked_genres and "Horror" in light.disliked_genres


def test_bad_requests_are_refused_before_anything_is_stored(platform: Platform) -> None:
    user_id = _user(platform)
    with pytest.raises(ValidationError, match="Type a question"):
        start_turn(platform, user_id=user_id, message="   ", config=CONFIG)
    with pytest.raises(ValidationError, match="keep it under"):
        start_turn(platform, user_id=user_id, message="x" * 5000, config=CONFIG)
    with pytest.raises(NotFoundError, match="profile"):
        start_turn(platform, user_id=user_id + 1, message="hi", config=CONFIG)
    with platform.session() as session:
        other = repo.create_user(
            session, token_hash="o" * 64, name="O", age=None, gender=None, taste="", language="en"
        )
        theirs = conv.create_conversation(session, user_id=other, title="theirs")
    with pytest.raises(NotFoundError, match="does not exist for this session"):
        start_turn(platform, user_id=user_id, message="hi", conversation_id=theirs, config=CONFIG)
    with platform.session() as session:
        assert conv.list_conversations(session, user_id=user_id) == []


def test_prefill_warms_exactly_the_next_prompt_prefix(tmp_path: Path) -> None:
    fake = FakeBackend(caches_prefix=True)
    platform = _platform(tmp_path, fake)
    user_id = _user(platform)
    config = ChatServiceConfig(background_upkeep=False, summarize_with_model=False)
    fake.queue("Memento (2000) [#1] is by Christopher Nolan.\n- It is a   thriller.", "ok")
    first = chat_turn(platform, user_id=user_id, message="Tell me about Memento.", config=config)
    assert "\n- It is a thriller." in first.text  # stored with its line break
    warmed = fake.calls[1]
    assert warmed.max_tokens == 1
    fake.queue("Heat (1995) [#4] is by Michael Mann.", "ok")
    chat_turn(
        platform,
        user_id=user_id,
        message="Tell me about Heat.",
        conversation_id=first.conversation_id,
        config=config,
    )
    next_prompt = fake.calls[2].messages
    assert next_prompt[: len(warmed.messages)] == warmed.messages
    assert chat.detect_intent("x") == "facts"


def test_a_recommendation_bound_to_a_person_keeps_to_their_films(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform, watched=(1,))
    fake.queue("Try The Prestige (2006) [#3].")
    answer = chat_turn(
        platform,
        user_id=user_id,
        message="Recommend a film by Christopher Nolan",
        config=CONFIG,
    )
    assert answer.intent == "recommend"
    assert set(answer.retrieved_ids) == {2, 3}  # Nolan's, minus the watched Memento
    assert answer.cited_ids == (3,)


def test_a_recommendation_names_only_this_turns_candidates(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    fake.queue("Heat (1986) [#5] is about a bodyguard.")
    first = chat_turn(platform, user_id=user_id, message="What is Heat (1986)?", config=CONFIG)
    fake.queue("Heat (1986) [#5] again! Or Up (2009) [#6], unlike Inception (2010) [#2].")
    answer = chat_turn(
        platform,
        user_id=user_id,
        message="Recommend something like Inception but lighter",
        conversation_id=first.conversation_id,
        config=CONFIG,
    )
    assert 5 not in answer.retrieved_ids and 6 in answer.retrieved_ids
    assert 5 not in answer.cited_ids and "Heat" not in answer.text  # earlier, not a candidate
    assert answer.text == "Or Up (2009) [#6], unlike Inception (2010) [#2]."  # named in the request


def test_the_memento_follow_up_never_shows_a_false_filmography(
    platform: Platform, fake: FakeBackend
) -> None:
    """Issue 21: 'and what else did he direct?' got 'Nolan directed Homefront and Deuces Wild'."""
    user_id = _user(platform)
    fake.queue(
        "Christopher Nolan directed Memento (2000) [#1].",
        # false; led by the draft's "Besides Memento (2000)," (the grammar's JSON)
        '{"answer": "Besides Memento (2000), Christopher Nolan directed Heat (1995) [#4] and '
        'Up (2009) [#6]."}',
    )
    first = chat_turn(platform, user_id=user_id, message="Who directed Memento?", config=CONFIG)
    second = chat_turn(
        platform,
        user_id=user_id,
        message="and what else did he direct?",
        conversation_id=first.conversation_id,
        config=CONFIG,
    )
    assert second.kind == "list" and second.fallback and "phrase_unknown_citation" in second.flags
    assert "forced_lead" in second.flags
    assert second.raw_text.startswith("Besides Memento (2000), Christopher Nolan directed Heat")
    assert set(second.cited_ids) == {2, 3} and "Heat" not in second.text
    assert second.text.startswith("Besides Memento (2000), Christopher Nolan directed")
    with platform.session() as session:
        stored = conv.get_conversation(
            session, conversation_id=first.conversation_id, user_id=user_id
        )
    assert stored is not None and stored.state is not None
    assert stored.state["person"] == "Christopher Nolan" and set(stored.state["listed_ids"]) == {
        2,
        3,
    }


def test_a_missing_fact_is_said_without_asking_the_model(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    answer = chat_turn(
        platform, user_id=user_id, message="Who directed Heat (1986)?", config=CONFIG
    )
    assert answer.text == (
        "The catalog has no director for Heat (1986) [#5], so I cannot say who directed it."
    )
    assert fake.calls == [] and answer.kind == "unknown" and not answer.fallback
    ko = chat_turn(
        platform, user_id=user_id, message="Heat (1986)의 감독은 누구인가요?", config=CONFIG
    )
    assert ko.text.startswith("카탈로그에 Heat (1986) [#5]의 감독 정보가 없어") and fake.calls == []


def test_a_comparison_is_led_by_the_winner_and_told_the_verdict(
    platform: Platform, fake: FakeBackend
) -> None:
    user_id = _user(platform)
    fake.queue('{"answer": "Memento (2000) [#1] is older than Inception (2010) [#2]."}')
    answer = chat_turn(
        platform, user_id=user_id, message="Which is older, Inception or Memento?", config=CONFIG
    )
    call = fake.calls[0]
    assert call.schema is not None
    assert call.schema["properties"]["answer"]["pattern"].startswith("^Memento [(]2000[)]")
    # The verdict is a fact of the prompt, stated plainly.
    assert "Memento (2000) [#1] is older than Inception (2010) [#2]." in call.messages[-1].content
    assert answer.kind == "compare" and not answer.fallback and "forced_lead" in answer.flags
    assert answer.text == "Memento (2000) [#1] is older than Inception (2010) [#2]."
    assert answer.raw_text == answer.text  # the answer, not its JSON
    # Without the lead the model writes freely; a cut JSON reply falls back to the draft.
    free = ChatServiceConfig(
        background_upkeep=False, prefill=False, summarize_with_model=False, lead_comparisons=False
    )
    fake.queue("Memento (2000) [#1] is older than Inception (2010) [#2].")
    plain = chat_turn(
        platform, user_id=user_id, message="Which is older, Inception or Memento?", config=free
    )
    assert fake.calls[1].schema is None and plain.flags == () and not plain.fallback
    fake.queue('{"answer": "Memento (2000) [#1] is')
    cut = chat_turn(
        platform, user_id=user_id, message="Which is older, Inception or Memento?", config=CONFIG
    )
    assert cut.fallback and "phrase_cut" in cut.flags
    assert cut.text.startswith("Memento (2000) [#1] is older:")


def test_a_list_phrasing_must_name_every_listed_citation(
    platform: Platform, fake: FakeBackend
) -> None:
    """The v6 chat run: Qwen 0.5B dropped items of Korean lists ("... 영화는 Jurassic World
    (2015) [#117529]입니다." for two films), and the answer became the template."""
    import re

    user_id = _user(platform)
    fake.queue('{"answer": "Christopher Nolan made these."}')
    answer = chat_turn(
        platform, user_id=user_id, message="Which movies did Christopher Nolan direct?",
        config=CONFIG,
    )  # fmt: skip
    assert answer.kind == "list" and "forced_citations" in answer.flags
    pattern = re.compile(fake.calls[0].schema["properties"]["answer"]["pattern"])
    refs = re.findall(r"[^:,]+? \[#\d+\]", answer.text)  # the template's citations
    assert len(refs) >= 2
    listed = " and ".join(r.strip() for r in refs)
    assert pattern.match(f"Christopher Nolan directed {listed}.")
    assert not pattern.match(f"Christopher Nolan directed {refs[0].strip()}.")  # one dropped
    assert answer.fallback  # the fake's reply names none: refused, the template shown
    # off: the model writes freely
    free = ChatServiceConfig(
        background_upkeep=False, prefill=False, summarize_with_model=False, cite_lists=False
    )
    fake.queue("Christopher Nolan directed them.")
    chat_turn(
        platform, user_id=user_id, message="Which movies did Christopher Nolan direct?",
        config=free,
    )  # fmt: skip
    assert fake.calls[-1].schema is None


def test_a_list_phrasing_keeps_the_person_before_the_list(
    platform: Platform, fake: FakeBackend
) -> None:
    # under the list's grammar alone the 0.5B model started with the first title and dropped
    # "Roger Michell directed" (the answer then fell back to the template)
    import re

    user_id = _user(platform)
    fake.queue('{"answer": "x"}')
    answer = chat_turn(
        platform, user_id=user_id, message="Which movies did Christopher Nolan direct?",
        config=CONFIG,
    )  # fmt: skip
    pattern = re.compile(fake.calls[0].schema["properties"]["answer"]["pattern"])
    listed = " and ".join(r.strip() for r in re.findall(r"[^:,]+? \[#\d+\]", answer.text))
    assert pattern.match(f"Christopher Nolan directed {listed}.")
    assert not pattern.match(f"{listed}.")
