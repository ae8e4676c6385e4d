"""Cross-site request forgery in a real Chromium against a real server.

A victim makes a profile, ticks movies and starts a conversation. Then pages on two other
origins (``localhost`` on another port: another site; ``127.0.0.1`` on another port: the same
site, another origin, so ``SameSite=Lax`` cookies are sent) submit forms to every
state-changing page route and send ``fetch`` requests with credentials to every state-changing
API route. Afterwards the victim's profile, watched list, conversations and session are
exactly as before.
"""

from __future__ import annotations

import html
import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.web.servers import CHROMIUM, CHROMIUM_ARGS, cinerec_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FORMS = [  # (path, fields) of every state-changing page route
    ("/profile", {"name": "Attacker", "taste": "horror only", "language": "en"}),
    ("/watched", {"movie_id": "1"}),
    ("/watched/2571/delete", {}),
    ("/recommend", {}),
    ("/recommend?more=1", {}),
    ("/feedback", {"movie_id": "1", "kind": "dislike"}),
    ("/feedback/1/undo", {}),
    ("/recovery", {}),
    ("/restore", {"code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}),
    ("/chat", {"message": "attacker question"}),
    ("/posts", {"theme": "attacker theme", "n": "1"}),
]
FETCHES = [  # (method, path, body) of every state-changing API route
    ("PUT", "/api/profile", {"name": "Attacker"}),
    ("POST", "/api/profile", {"name": "Attacker"}),
    ("POST", "/api/watched", {"movie_id": 1}),
    ("DELETE", "/api/watched/2571", None),
    ("POST", "/api/recommendations", {}),
    ("POST", "/api/feedback", {"movie_id": 1, "kind": "like"}),
    ("DELETE", "/api/feedback/1", None),
    ("POST", "/api/chat", {"message": "attacker"}),
    ("POST", "/api/chat/stream", {"message": "attacker"}),
    ("DELETE", "/api/chat/conversations/1", None),
    ("POST", "/api/posts", {"theme": "attacker"}),
    ("POST", "/api/session/restore", {"code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}),
]


def attack_page(target: str) -> str:
    """An attacker's page: forms auto-submitted into frames, and credentialed fetches (simple
    requests as text/plain, which need no preflight, and the others, which do)."""
    parts = ["<!doctype html><html><body><h1>You won a prize</h1>"]
    for k, (path, fields) in enumerate(FORMS):
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(n)}" value="{html.escape(v)}">'
            for n, v in fields.items()
        )
        parts.append(f'<iframe name="f{k}"></iframe>')
        parts.append(f'<form method="post" action="{target}{path}" target="f{k}">{inputs}</form>')
    calls = json.dumps([[m, target + p, b] for m, p, b in FETCHES])
    parts.append(
        "<script>"
        "for (const f of document.forms) f.submit();"
        f"const calls = {calls};"
        "window.done = Promise.allSettled(calls.map(([m, u, b]) => fetch(u, {method: m,"
        " credentials: 'include', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},"
        " body: b === null ? undefined : JSON.stringify(b)})));"
        "</script></body></html>"
    )
    return "".join(parts)


@pytest.fixture(scope="module")
def home(prepared_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("csrf-home")
    shutil.copytree(prepared_home, home, dirs_exist_ok=True)
    return home


@pytest.fixture(scope="module")
def server(home: Path, real_data_dir: Path) -> Iterator[str]:
    env = {
        "CINEREC_DATA_DIR": str(real_data_dir),
        "CINEREC_LLM_BACKEND": "none",  # no model call reaches the server's state anyway
        "CINEREC_RECOMMENDER": "als",
        "CINEREC_WARM_EMBEDDINGS": "false",
        "CINEREC_REVIEW_SUMMARIES": "false",
    }
    with cinerec_server(home, env) as url:
        yield url


@pytest.fixture(scope="module")
def attacker(server: str) -> Iterator[int]:
    """A plain HTTP server on another port that serves the attack page."""
    page = attack_page(server).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()


def test_pages_on_other_origins_change_nothing(server: str, attacker: int, home: Path) -> None:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(server)
        page.fill("input[name=name]", "Victim")
        page.fill("input[name=taste]", "slow-burn sci-fi")
        page.click("#save-profile")
        page.wait_for_selector("#watched-panel")
        token = page.locator('meta[name="csrf-token"]').get_attribute("content")
        api = {"X-CSRF-Token": token}
        for movie_id in (2571, 260):
            r = page.request.post(f"{server}/api/watched", data={"movie_id": movie_id}, headers=api)
            assert r.ok, r.text()
        r = page.request.post(f"{server}/api/feedback", data={"movie_id": 1, "kind": "like"},
                              headers=api)  # fmt: skip
        assert r.ok, r.text()
        r = page.request.post(f"{server}/chat", form={"message": "Who directed Alien?",
                                                       "csrf_token": token})  # fmt: skip
        assert r.ok

        def snapshot() -> dict[str, object]:
            return {
                "profile": page.request.get(f"{server}/api/profile").json(),
                "watched": page.request.get(f"{server}/api/watched").json(),
                "conversations": page.request.get(f"{server}/api/chat/conversations").json(),
                "runs": page.request.get(f"{server}/api/recommendations").json(),
                "feedback": page.request.get(f"{server}/api/feedback").json(),
                "session": next(
                    c["value"] for c in context.cookies() if c["name"] == "cinerec_session"
                ),
            }

        before = snapshot()
        assert before["profile"]["name"] == "Victim" and len(before["watched"]) == 2
        assert len(before["conversations"]) == 1
        assert before["feedback"] == [{"movie_id": 1, "kind": "like"}]
        for origin in (f"http://localhost:{attacker}", f"http://127.0.0.1:{attacker}"):
            evil = context.new_page()
            evil.goto(origin)
            evil.evaluate("window.done")
            evil.wait_for_load_state("load")
            evil.wait_for_timeout(2000)  # the frames' posts have landed
            evil.close()
            assert snapshot() == before, origin
        # Every forged form and simple fetch reached the server and was refused (the frames
        # cannot show the answers: the pages forbid framing); PUT and DELETE never left the
        # browser (CORS preflight).
        log = (home / "server.log").read_text()
        expected = Counter(f"refused POST {path.split('?')[0]}:" for path, _ in FORMS)
        expected.update(f"refused POST {p}:" for m, p, _ in FETCHES if m == "POST")
        for line, times in expected.items():
            assert log.count(line) == 2 * times, line
        assert "refused PUT" not in log and "refused DELETE" not in log  # stopped by preflight
        browser.close()
