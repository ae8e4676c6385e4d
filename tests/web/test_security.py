"""Abuse resistance through the real app: CSRF, headers, bounded ids, error shape, fair use of
the model, one reasons producer per run, recovery codes, and small page defects."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cinerec.db import repository as repo
from cinerec.services.platform import Platform
from cinerec.web.app import create_app
from cinerec.web.security import CSRF_COOKIE, CSRF_HEADER
from tests.web.conftest import SchemaAwareFake, make_profile, open_client, with_csrf
from tests.web.test_pages import sse_events

BAD_IDS = [str(2**63), str(2**31), "-1", "0", "abc", "1e3"]


def _profile_of(client: TestClient) -> dict:
    return client.get("/api/profile").json()


# CSRF ---------------------------------------------------------------------------------------


def test_a_form_post_without_the_token_changes_nothing(client: TestClient) -> None:
    make_profile(client, name="Victim", taste="sci-fi")
    client.post("/api/watched", json={"movie_id": 3})
    bare = client.headers.pop(CSRF_HEADER)
    r = client.post("/profile", data={"name": "Attacker", "taste": "horror"})
    assert r.status_code == 403 and "nothing was changed" in r.text.lower()
    r = client.post("/watched/3/delete")
    assert r.status_code == 403
    wrong = client.post("/profile", data={"name": "Attacker", "csrf_token": "guess"})
    assert wrong.status_code == 403
    client.headers[CSRF_HEADER] = bare
    assert _profile_of(client)["name"] == "Victim"
    assert [w["movie"]["id"] for w in client.get("/api/watched").json()] == [3]


def test_the_form_field_token_is_accepted(client: TestClient) -> None:
    token = client.headers.pop(CSRF_HEADER)
    r = client.post("/profile", data={"name": "Mina", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert 'name="csrf_token" value="' + token + '"' in client.get("/").text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost:8001"},  # another site
        {"Origin": "http://testserver:8001"},  # same host, another port: same site, other origin
        {"Origin": "null"},  # sandboxed frames, data: URLs
        {"Referer": "http://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_another_origin_is_refused_even_with_the_token(
    client: TestClient, headers: dict[str, str]
) -> None:
    make_profile(client, name="Victim")
    r = client.post("/profile", data={"name": "Attacker"}, headers=headers)
    assert r.status_code == 403
    r = client.put("/api/profile", json={"name": "Attacker"}, headers=headers)
    assert r.status_code == 403 and r.json()["detail"]
    assert _profile_of(client)["name"] == "Victim"


def test_own_origin_and_allowed_origins_pass(client: TestClient, platform: Platform) -> None:
    make_profile(client)
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.put("/api/profile", json={"name": "A"}, headers=own).status_code == 200
    proxy = {"Origin": "https://cinerec.example"}
    assert client.put("/api/profile", json={"name": "B"}, headers=proxy).status_code == 403
    platform.settings.allowed_origins = ["https://cinerec.example"]
    assert client.put("/api/profile", json={"name": "C"}, headers=proxy).status_code == 200


def test_a_cross_site_post_cannot_replace_a_session(platform: Platform) -> None:
    """The reported attack: an auto-submitting form elsewhere posting /profile without the
    victim's CSRF token used to create a new user and swap the victim's session cookie."""
    with open_client(platform) as victim:
        make_profile(victim, name="Victim")
        session = victim.cookies.get("cinerec_session")
        del victim.headers[CSRF_HEADER]
        r = victim.post(
            "/profile",
            data={"name": "Attacker"},
            headers={"Origin": "http://localhost:8001"},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "set-cookie" not in r.headers
        assert victim.cookies.get("cinerec_session") == session


def test_every_state_changing_route_requires_the_token(client: TestClient) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 3})
    token = client.headers.pop(CSRF_HEADER)
    calls = [
        ("POST", "/profile"),
        ("POST", "/watched"),
        ("POST", "/watched/3/delete"),
        ("POST", "/recommend"),
        ("POST", "/feedback"),
        ("POST", "/feedback/3/undo"),
        ("POST", "/recovery"),
        ("POST", "/restore"),
        ("POST", "/chat"),
        ("POST", "/posts"),
        ("PUT", "/api/profile"),
        ("POST", "/api/profile"),
        ("POST", "/api/watched"),
        ("DELETE", "/api/watched/3"),
        ("POST", "/api/recommendations"),
        ("POST", "/api/feedback"),
        ("DELETE", "/api/feedback/3"),
        ("POST", "/api/chat"),
        ("POST", "/api/chat/stream"),
        ("DELETE", "/api/chat/conversations/1"),
        ("POST", "/api/posts"),
        ("POST", "/api/session/restore"),
    ]
    for method, path in calls:
        r = client.request(method, path, json={} if path.startswith("/api") else None)
        assert r.status_code in (403, 422), (method, path, r.status_code)
    client.headers[CSRF_HEADER] = token
    assert [w["movie"]["id"] for w in client.get("/api/watched").json()] == [3]


def test_cookies_are_httponly_lax_and_secure_over_https(platform: Platform) -> None:
    app = create_app(platform.settings, platform=platform)
    with TestClient(app) as plain:
        cookie = plain.get("/").headers["set-cookie"]
        assert cookie.startswith(CSRF_COOKIE) and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie
    with TestClient(app, base_url="https://testserver") as tls:
        with_csrf(tls)
        r = tls.put("/api/profile", json={"name": "Mina"})
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("cinerec_session"))
        assert "HttpOnly" in session and "samesite=lax" in session.lower() and "Secure" in session
        assert "Secure" in tls.get("/", cookies={}).headers.get("set-cookie", "Secure")


# Headers, ids, errors, OpenAPI basics ---------------------------------------------------------


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in ("/", "/api/movies/1", "/movies/999999", "/static/style.css"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"


def test_templates_have_no_inline_script_or_style() -> None:
    templates = Path(__file__).resolve().parents[2] / "src/cinerec/web/templates"
    for page in templates.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page.name
        assert "<style" not in text and not re.search(r"\son[a-z]+=", text), page.name
        assert " style=" not in text, page.name


def test_huge_negative_zero_and_text_ids_never_give_a_server_error(client: TestClient) -> None:
    make_profile(client)
    for bad in BAD_IDS:
        routes = [
            ("GET", f"/api/movies/{bad}"),
            ("GET", f"/api/movies/{bad}/reviews"),
            ("GET", f"/movies/{bad}"),
            ("GET", f"/api/recommendations/{bad}/reasons"),
            ("GET", f"/api/chat/conversations/{bad}"),
            ("DELETE", f"/api/chat/conversations/{bad}"),
            ("DELETE", f"/api/watched/{bad}"),
            ("DELETE", f"/api/feedback/{bad}"),
            ("POST", f"/feedback/{bad}/undo"),
            ("POST", f"/watched/{bad}/delete"),
            ("GET", f"/chat?c={bad}"),
        ]
        for method, path in routes:
            r = client.request(method, path)
            assert r.status_code in (404, 422), (method, path, r.status_code, r.text[:200])
        for path, body in [
            ("/api/feedback", {"movie_id": bad, "kind": "like"}),
            ("/api/watched", {"movie_id": bad}),
            ("/api/chat", {"message": "hi", "conversation_id": bad}),
        ]:
            r = client.post(path, json=body)
            assert r.status_code in (404, 422), (path, bad, r.status_code)
            assert isinstance(r.json()["detail"], str)
        r = client.post("/watched", data={"movie_id": bad})
        assert r.status_code in (404, 422)
    # The connection stays usable after all of them.
    assert client.get("/api/movies/1").status_code == 200


def test_errors_have_one_shape_and_405_says_allow(client: TestClient) -> None:
    r = client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    assert "taste" not in r.json()["detail"]
    r = client.put("/api/movies/1")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    assert set(r.json()) == {"detail"}
    r = client.put("/api/profile", json={})
    assert r.status_code == 422 and set(r.json()) == {"detail"} and "name" in r.json()["detail"]
    schema = client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["detail"]["type"] == "string"
    profile = schema["paths"]["/api/profile"]["put"]
    body = profile["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/ProfileIn") and {"403", "422"} <= set(profile["responses"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    chat = schema["components"]["schemas"]["ChatIn"]["properties"]["message"]
    assert chat["maxLength"] == 1000
    watched = schema["components"]["schemas"]["WatchedIn"]
    assert watched["properties"]["movie_id"]["maximum"] == 2**31 - 1  # bounds are in the contract
    assert watched["additionalProperties"] is False
    r = client.post("/api/watched", json={"movie_id": "3"})
    assert r.status_code == 422  # a string is not a number, even a numeric one


def test_favicon_and_language_links_keep_the_conversation(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 200
    make_profile(client)
    page = client.get("/chat?c=7&lang=en")  # no such conversation: 404 page, links still built
    assert 'href="/chat?c=7&amp;lang=ko"' in page.text


def test_korean_pages_show_korean_genre_names(client: TestClient) -> None:
    page = client.get("/movies/2?lang=ko").text  # Film Number 2: Comedy, Romance
    assert "코미디" in page and "Comedy" not in page.split('class="genres"')[1][:80]
    assert "Comedy" in client.get("/movies/2?lang=en").text


# Fair use of the model ----------------------------------------------------------------------


class SlowFake(SchemaAwareFake):
    """The schema-aware fake, taking ``delay_s`` a call (a busy model)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def complete(self, messages, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(self.delay_s)
        with self.lock:
            return super().complete(messages, **kwargs)


def test_past_the_rate_a_session_gets_429_with_retry_after(
    client: TestClient, platform: Platform
) -> None:
    make_profile(client)
    client.post("/api/watched", json={"movie_id": 1})
    allowed = platform.settings.model_rate_per_minute
    codes = [
        client.post("/api/recommendations", json={"stream_reasons": True}).status_code
        for _ in range(allowed + 2)
    ]
    assert codes == [200] * allowed + [429, 429]
    r = client.post("/api/chat", json={"message": "Film Number 3?"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "minute" in r.json()["detail"]
    page = client.post("/recommend", headers={"HX-Request": "true"})
    assert page.status_code == 429 and int(page.headers["retry-after"]) >= 1
    assert client.get("/api/watched").status_code == 200  # pages without the model still serve


def test_concurrent_model_requests_past_the_bounds_get_429_at_once(
    platform: Platform,
) -> None:
    platform._llm = SlowFake(delay_s=1.0)
    platform.settings.model_rate_per_minute = 100
    with open_client(platform, profile=True) as client:
        client.post("/api/watched", json={"movie_id": 1})

        def ask(k: int) -> tuple[int, float, str]:
            t0 = time.perf_counter()
            r = client.post("/api/chat", json={"message": f"Film Number {k % 9 + 1}?"})
            return r.status_code, time.perf_counter() - t0, r.headers.get("retry-after", "")

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(ask, range(20)))
    codes = [c for c, _, _ in results]
    limit = platform.settings.model_session_concurrency
    assert codes.count(200) >= limit and codes.count(429) >= 20 - 3 * limit
    assert set(codes) <= {200, 429}
    refused = [t for c, t, _ in results if c == 429]
    assert max(refused) < 0.9  # refused at once, not after waiting for the model (1 s a call)
    assert all(ra for c, _, ra in results if c == 429)


def test_posts_need_a_session(platform: Platform) -> None:
    with open_client(platform) as client:
        r = client.post("/api/posts", json={"theme": "rainy day", "n": 2})
        assert r.status_code == 422 and "profile" in r.json()["detail"]
        page = client.post("/posts", data={"theme": "rainy day", "n": "2"})
        assert page.status_code == 422 and "profile" in page.text.lower()
        assert 'id="post-need-profile"' in client.get("/posts").text


def test_two_tabs_on_one_run_get_each_reason_written_once(platform: Platform) -> None:
    fake = SlowFake(delay_s=0.05)
    platform._llm = fake
    with open_client(platform, profile=True) as client:
        client.post("/api/watched", json={"movie_id": 1})
        run = client.post("/api/recommendations", json={"stream_reasons": True}).json()
        url = f"/api/recommendations/{run['run_id']}/reasons"
        with ThreadPoolExecutor(2) as pool:
            tabs = list(pool.map(lambda _: sse_events(client.get(url).text), range(2)))
    reasons = [[d["text"] for k, d in tab if k == "reason"] for tab in tabs]
    assert len(reasons[0]) == 5 and reasons[0] == reasons[1]
    reason_calls = [c for c in fake.calls if c.schema and "reason" in c.schema["properties"]]
    assert len(reason_calls) == 5


# Recovery codes -------------------------------------------------------------------------------


def test_a_recovery_code_brings_the_profile_to_another_browser(platform: Platform) -> None:
    with open_client(platform) as first:
        made = first.put("/api/profile", json={"name": "Mina", "taste": "sci-fi"}).json()
        code = made["recovery_code"]
        assert re.fullmatch(r"([A-Z2-9]{5}-){4}[A-Z2-9]{5}", code)
        first.post("/api/watched", json={"movie_id": 4})
        again = first.put("/api/profile", json={"name": "Mina", "taste": "sci-fi"}).json()
        assert again["recovery_code"] is None  # shown once, when the user was made
        with platform.session() as session:
            stored = session.execute(repo.select(repo.UserRow.recovery_code_hash)).scalars().all()
        assert stored and code not in stored and code.replace("-", "") not in stored
        with open_client(platform) as second:
            wrong = second.post("/api/session/restore", json={"code": "AAAAA-" * 4 + "AAAAA"})
            assert wrong.status_code == 404
            r = second.post("/api/session/restore", json={"code": code.lower().replace("-", "")})
            assert r.status_code == 200 and r.json()["name"] == "Mina"
            assert [w["movie"]["id"] for w in second.get("/api/watched").json()] == [4]
        assert first.get("/api/profile").status_code == 422  # that session moved


def test_the_page_shows_a_new_code_once_and_restores_with_it(platform: Platform) -> None:
    with open_client(platform) as browser:
        make_profile(browser, name="Mina")
        page = browser.get("/").text
        code = re.search(r'<code id="recovery-code">([A-Z2-9-]+)</code>', page).group(1)
        assert 'id="recovery-code"' not in browser.get("/").text  # once
        with open_client(platform) as other:
            assert 'id="restore-link"' in other.get("/").text
            bad = other.post("/restore", data={"code": "short"})
            assert bad.status_code == 422 and "25 letters" in bad.text
            r = other.post("/restore", data={"code": code}, follow_redirects=False)
            assert r.status_code == 303
            assert 'value="Mina"' in other.get("/").text
        r = browser.post("/recovery", follow_redirects=False)  # the old browser lost its session
        assert r.status_code == 422


def test_recovery_attempts_are_rate_limited(platform: Platform) -> None:
    with open_client(platform) as client:
        codes = [
            client.post("/api/session/restore", json={"code": "B" * 25}).status_code
            for _ in range(12)
        ]
    assert codes[:10] == [404] * 10 and codes[10:] == [429, 429]
