"""The chat page, its no-JavaScript form, the JSON API and the server-sent-event stream."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cinerec.web.app import create_app
from tests.llm.fakes import FakeCall
from tests.web.conftest import SchemaAwareFake, make_profile
from tests.web.servers import in_process_server

CHROMIUM = "/usr/bin/chromium"

ANSWER = "Film Number 3 (1983) [#3] was directed by Director 3."


def parse_sse(body: str) -> list[tuple[str, dict]]:
    """``(event, data)`` pairs of a text/event-stream body."""
    events = []
    for frame in body.split("\n\n"):
        if not frame.strip():
            continue
        name, data = "message", ""
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        events.append((name, json.loads(data)))
    return events


def test_the_page_asks_for_a_profile_first(client: TestClient) -> None:
    page = client.get("/chat")
    assert page.status_code == 200 and 'id="chat-need-profile"' in page.text
    r = client.post("/api/chat", json={"message": "hi"})
    assert r.status_code == 422 and "profile" in r.json()["detail"]


def test_the_page_works_without_javascript(client: TestClient, fake_llm: SchemaAwareFake) -> None:
    make_profile(client)
    page = client.get("/chat?lang=ko")
    assert page.status_code == 200 and 'id="chat-form"' in page.text and "새 대화" in page.text
    fake_llm.queue(ANSWER + " Also see Imaginary Film 2099 [#777].")
    r = client.post(
        "/chat",
        data={"message": "Who directed Film Number 3? Tom & Jerry <3", "conversation_id": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert re.fullmatch(r"/chat\?c=\d+#m\d+", location)
    page = client.get(location.split("#")[0])
    assert "Who directed Film Number 3? Tom &amp; Jerry &lt;3" in page.text  # escaped
    assert 'href="/movies/3"' in page.text and "Imaginary Film" not in page.text
    assert "[#3]" not in page.text  # citations are links, not raw markers
    assert "A sentence the catalog facts do not support" in page.text


def test_json_api_answers_and_continues_a_conversation(
    client: TestClient, fake_llm: SchemaAwareFake
) -> None:
    make_profile(client)
    fake_llm.queue(ANSWER, "Film Number 3 (1983) [#3] stars Actor 3 and Actor 4.")
    first = client.post("/api/chat", json={"message": "Tell me about Film Number 3."})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["answer"] == ANSWER and body["cited_ids"] == [3]
    assert body["cited"] == [{"id": 3, "title": "Film Number 3", "year": 1983, "url": "/movies/3"}]
    assert body["flags"] == [] and body["fallback"] is False and body["retrieved_ids"][0] == 3
    second = client.post(
        "/api/chat",
        json={"message": "Who starred in it?", "conversation_id": body["conversation_id"]},
    )
    assert second.status_code == 200 and second.json()["cited_ids"] == [3]
    listed = client.get("/api/chat/conversations").json()
    assert [c["id"] for c in listed] == [body["conversation_id"]]
    messages = client.get(f"/api/chat/conversations/{body['conversation_id']}").json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert client.delete(f"/api/chat/conversations/{body['conversation_id']}").status_code == 204
    assert client.get("/api/chat/conversations").json() == []


def test_the_stream_sends_meta_tokens_and_a_grounded_final_event(
    client: TestClient, fake_llm: SchemaAwareFake
) -> None:
    make_profile(client)
    fake_llm.queue(ANSWER + " You will love Imaginary Film 2099 (2099).")
    with client.stream(
        "POST", "/api/chat/stream", json={"message": "Tell me about Film Number 3."}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = parse_sse(body)
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and "token" in names
    meta, done = events[0][1], events[-1][1]
    assert meta["retrieved"][0] == {"id": 3, "title": "Film Number 3 (1983)"}
    streamed = "".join(data["text"] for name, data in events if name == "token")
    assert streamed == done["answer"] == ANSWER
    assert done["conversation_id"] == meta["conversation_id"] and "unknown_title" in done["flags"]


def test_bad_requests_get_clear_errors_before_any_stream(client: TestClient) -> None:
    make_profile(client)
    empty = client.post("/api/chat/stream", json={"message": "  "})
    assert empty.status_code == 422 and "message (it needs some text" in empty.json()["detail"]
    long = client.post("/api/chat", json={"message": "x" * 5000})
    assert long.status_code == 422 and "characters" in long.json()["detail"]
    missing = client.post("/api/chat", json={"message": "hi", "conversation_id": 999})
    assert missing.status_code == 404
    assert client.post("/api/chat", json={}).status_code == 422
    assert client.get("/chat?c=abc").status_code == 422
    assert client.get("/chat?c=999").status_code == 404
    assert client.get("/api/chat/stream").status_code == 405  # a turn is never a GET
    form = client.post("/chat", data={"message": ""})
    assert form.status_code == 422 and 'id="chat-error"' in form.text


def test_conversations_are_private_to_their_session(
    client: TestClient,
    platform,
    fake_llm: SchemaAwareFake,  # type: ignore[no-untyped-def]
) -> None:
    make_profile(client)
    fake_llm.queue(ANSWER)
    conversation_id = client.post("/api/chat", json={"message": "Film Number 3?"}).json()[
        "conversation_id"
    ]
    with TestClient(create_app(platform.settings, platform=platform)) as other:
        make_profile(other, name="Other")
        r = other.post("/api/chat", json={"message": "hi", "conversation_id": conversation_id})
        assert r.status_code == 404
        assert other.get(f"/chat?c={conversation_id}").status_code == 404
        assert other.delete(f"/api/chat/conversations/{conversation_id}").status_code == 404


def test_a_model_failure_still_answers_from_the_catalog(
    client: TestClient, fake_llm: SchemaAwareFake
) -> None:
    from cinerec.errors import LLMError

    make_profile(client)
    fake_llm.queue(LLMError("model crashed"))
    body = client.post("/api/chat", json={"message": "Tell me about Film Number 3."}).json()
    assert body["fallback"] is True and "Film Number 3 (1983) [#3]" in body["answer"]
    assert "Director 3" in body["answer"]


class _SlowStream(SchemaAwareFake):
    """Streams a queued reply word by word, slowly enough to watch it arrive."""

    def stream(self, messages, *, max_tokens=256, temperature=0.0):  # type: ignore[no-untyped-def]
        self.calls.append(FakeCall(list(messages), None, max_tokens, temperature, None))
        for word in self._next(None).split(" "):
            time.sleep(0.05)
            yield word + " "


@pytest.mark.browser
def test_chat_streams_in_chromium(platform) -> None:  # type: ignore[no-untyped-def]
    """chat.js against a real server: streamed text, citation links, flags, a second turn."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it.")
    fake = _SlowStream()
    fake.queue(
        ANSWER + " It is better than Imaginary Film 2099 (2099) [#777]. Film Number 3 is long.",
        "It stars Actor 3 and Actor 4 [#3].",
    )
    platform._llm = fake  # the shared fixture's fake, swapped for a slow one
    with in_process_server(platform) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(url + "/")
        page.fill("input[name=name]", "Mina")
        page.click("#save-profile")
        page.goto(url + "/chat")
        page.fill("#chat-input", 'Tell me about Film Number 3. <img src=x onerror="alert(1)">')
        page.click("#chat-send")
        answer = page.locator(".chat-assistant").last
        expect(answer.locator(".chat-text")).to_contain_text("Film Number 3 (1983)")
        expect(answer.locator("a.chat-cite")).to_have_attribute("href", "/movies/3")
        expect(answer.locator(".chat-text")).to_contain_text("Film Number 3 is long.")
        assert "Imaginary" not in answer.inner_text()
        expect(answer.locator(".chat-flag")).to_have_count(1)
        assert page.locator(".chat-user img").count() == 0  # the question stays text
        assert re.search(r"/chat\?c=\d+$", page.url)
        expect(page.locator(".chat-list li")).to_have_count(1)  # listed without a reload
        page.fill("#chat-input", "Tell me more about it.")
        page.click("#chat-send")
        expect(page.locator(".chat-assistant").last).to_contain_text("Actor 3 and Actor 4")
        page.reload()
        expect(page.locator(".chat-msg")).to_have_count(4)
        browser.close()
