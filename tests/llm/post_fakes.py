"""A fake backend that answers post requests from their JSON schema (queued replies first).

from tests.llm.post_fakes import PostFake

backend = PostFake()            # valid plans (the first n allowed ids) and distinct one-liners
backend.queue("not json")       # queued replies still come first
"""

from __future__ import annotations

import json
from typing import Any

from cinerec.llm.backends.base import Completion, Message
from tests.llm.fakes import FakeBackend

REVIEWS_EN = (
    "A quiet storm of feelings that lingers long after the credits.",
    "Sharp dialogue and a twist you will not see coming.",
    "Warm, funny and made for a blanket on the sofa.",
    "Two hours of tension with barely a breath between scenes.",
    "Gorgeous images carry a story about growing up.",
    "An odd little gem whose jokes land every single time.",
    "Big music, bigger hearts, and a finale worth the wait.",
    "Cold, precise and strangely moving by the last reel.",
    "A road trip that turns into something much stranger.",
    "Every frame feels handmade and full of small surprises.",
    "Loud, silly and impossible to dislike.",
    "A slow burn that pays off with a devastating ending.",
)
REVIEWS_KO = (
    "비 오는 창가에서 보기 좋은 잔잔한 이야기.",
    "마지막 반전이 오래도록 마음에 남는다.",
    "웃음과 눈물이 번갈아 찾아오는 따뜻한 영화.",
    "숨 막히는 긴장감이 끝까지 이어진다.",
    "아름다운 화면 속에 성장의 아픔을 담았다.",
    "엉뚱하지만 사랑스러운 인물들이 빛난다.",
)
CAPTION_EN = [
    "Rain on the window, nowhere to be.",
    "Five films that fit the mood.",
    "Pick one and press play.",
]
CAPTION_KO = ["창밖에 비가 내리는 날.", "분위기에 꼭 맞는 영화들.", "하나 골라 재생해 보세요."]


class PostFake(FakeBackend):
    """Queued replies first; then a valid answer built from the request's schema."""

    def __init__(
        self, language: str = "en", reviews: tuple[str, ...] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.language = language
        self.reviews = reviews
        self._next_review = 0

    def _reviews(self) -> tuple[str, ...]:
        if self.reviews is not None:
            return self.reviews
        return REVIEWS_KO if self.language == "ko" else REVIEWS_EN

    def complete(  # type: ignore[override]
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        timeout_s: float | None = None,
    ) -> Completion:
        if not self.replies and schema is not None:
            props = schema.get("properties", {})
            reviews = self._reviews()
            if "ids" in props:
                ids = props["ids"]["items"]["enum"][: props["ids"]["minItems"]]
                hook, mood, invite = CAPTION_KO if self.language == "ko" else CAPTION_EN
                caption = {"hook": hook, "mood": mood, "invite": invite}
                self.replies.append(json.dumps({"ids": ids, "caption": caption}))
            elif "review" in props:
                self.replies.append(
                    json.dumps({"review": reviews[self._next_review % len(reviews)]})
                )
                self._next_review += 1
        return super().complete(
            messages,
            schema=schema,
            max_tokens=max_tokens,
            temperature=temperature,
            timeout_s=timeout_s,
        )
