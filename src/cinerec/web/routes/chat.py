"""The movie chat: a page (works without JavaScript), a JSON API and a server-sent-event stream.

``POST /api/chat/stream`` answers with ``text/event-stream``: one ``meta`` event (conversation id,
retrieved movies), ``token`` events carrying checked text as it is generated, then ``done`` with
the grounded answer, the cited movie ids and the flags (``error`` if the turn fails midway). Bad
input is refused before the stream starts, with the usual JSON error. The stream is POST only: a
turn stores messages, and a cross-site GET must not be able to do that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from cinerec.errors import CinerecError, NotFoundError, ValidationError
from cinerec.services import conversations
from cinerec.services.chat import (
    MAX_MESSAGE_CHARS,
    CancelToken,
    ChatAnswer,
    chat_turn,
    run_turn,
    start_turn,
)
from cinerec.services.chat_memory import warm_up
from cinerec.services.users import UserRecord
from cinerec.web.deps import GateDep, PlatformDep, UserDep
from cinerec.web.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    MODEL_ERRORS,
    STRICT_INPUT,
    BoundedId,
    ConversationIdPath,
)
from cinerec.web.security import require_csrf
from cinerec.web.streaming import run_until_disconnect, until_disconnect
from cinerec.web.templating import page_language, render

router = APIRouter(dependencies=[Depends(require_csrf)], responses=COMMON_ERRORS)


class ChatIn(BaseModel):
    """A question, optionally continuing one of the session's conversations."""

    model_config = STRICT_INPUT

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=r"\S")
    conversation_id: BoundedId | None = None


class CitedMovie(BaseModel):
    id: int
    title: str
    year: int | None
    url: str


class ChatOut(BaseModel):
    """One answered turn."""

    conversation_id: int
    message_id: int
    answer: str
    cited_ids: list[int]
    cited: list[CitedMovie]
    retrieved_ids: list[int]
    flags: list[str]
    fallback: bool
    intent: str
    language: str
    model: str
    prompt_tokens: int
    timings: dict[str, float]


class ConversationPublic(BaseModel):
    id: int
    title: str
    updated_at: str


class MessagePublic(BaseModel):
    id: int
    role: str
    content: str
    cited_ids: list[int]
    flags: list[str]


def _require(user: UserRecord | None) -> UserRecord:
    if user is None:
        raise ValidationError("Fill in your profile first; it starts your private session.")
    return user


def _conversation_id(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("A conversation id must be a whole number.") from None
    if not 0 < number <= MAX_ID:
        raise NotFoundError(f"Conversation {number} does not exist for this session.")
    return number


def _page(
    request: Request,
    platform: PlatformDep,
    user: UserRecord | None,
    *,
    conversation_id: int | None = None,
    error: str | None = None,
    draft: str = "",
    status_code: int = 200,
) -> Response:
    lang = page_language(request, user.language if user else "en")
    context: dict[str, Any] = {
        "user": user,
        "error": error,
        "draft": draft,
        "conversations": [],
        "conversation": None,
        "messages": [],
        "max_chars": MAX_MESSAGE_CHARS,
    }
    if user is not None:
        shown = conversations.chat_page(platform, user_id=user.id, conversation_id=conversation_id)
        context["conversations"] = shown.conversations
        context["conversation"] = shown.conversation
        context["messages"] = shown.messages
    return render(request, "chat.html", context, status_code=status_code, language=lang)


@router.get("/chat", include_in_schema=False)
def chat_page(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    c: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    conversation_id = _conversation_id(c)
    response = _page(request, platform, user, conversation_id=conversation_id)
    if user is not None:
        warm_up(platform, user_id=user.id, conversation_id=conversation_id)
    return response


@router.post("/chat", include_in_schema=False)
async def chat_form(
    request: Request,
    platform: PlatformDep,
    user: UserDep,
    gate: GateDep,
    message: Annotated[str, Form()] = "",
    conversation_id: Annotated[str, Form()] = "",
) -> Response:
    """The form without JavaScript: answer the whole turn, then show the conversation."""
    current = _require(user)
    conversation = _conversation_id(conversation_id)
    cancel = CancelToken()

    def turn() -> ChatAnswer:
        with gate.hold(f"user:{current.id}"):
            return chat_turn(
                platform,
                user_id=current.id,
                message=message,
                conversation_id=conversation,
                cancel=cancel,
            )

    try:
        answer = await run_until_disconnect(request, cancel, turn)
    except ValidationError as exc:
        return _page(
            request,
            platform,
            current,
            conversation_id=conversation,
            error=str(exc),
            draft=message[:MAX_MESSAGE_CHARS],
            status_code=422,
        )
    target = f"/chat?c={answer.conversation_id}#m{answer.message_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/api/chat", response_model=ChatOut, tags=["chat"], responses=MODEL_ERRORS)
async def chat_api(
    request: Request, platform: PlatformDep, user: UserDep, gate: GateDep, body: ChatIn
) -> ChatOut:
    """Ask one question (continuing ``conversation_id`` when given); the whole answer at once.
    A client that disconnects meanwhile stops the model within about a token (the turn is
    stored as the stream stores it then: the flagged facts answer, marked ``interrupted``)."""
    current = _require(user)
    conversation = _conversation_id(body.conversation_id)
    cancel = CancelToken()

    def turn() -> ChatOut:
        with gate.hold(f"user:{current.id}"):
            answer = chat_turn(
                platform,
                user_id=current.id,
                message=body.message,
                conversation_id=conversation,
                cancel=cancel,
            )
        return ChatOut.model_validate(answer.public())

    return await run_until_disconnect(request, cancel, turn)


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event; the JSON payload has no raw newlines, so one ``data`` line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/api/chat/stream",
    tags=["chat"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **MODEL_ERRORS},
)
def chat_stream(
    request: Request, platform: PlatformDep, user: UserDep, gate: GateDep, body: ChatIn
) -> StreamingResponse:
    """Ask one question; the answer streams as server-sent events (``meta``, ``token``,
    ``done``). The turn holds its place in the model queue until the stream ends; a client
    that disconnects stops the model within about a token (the turn is stored, flagged
    ``interrupted``)."""
    current = _require(user)
    ticket = gate.acquire(f"user:{current.id}")
    try:
        state = start_turn(
            platform,
            user_id=current.id,
            message=body.message,
            conversation_id=_conversation_id(body.conversation_id),
        )
    except BaseException:
        ticket.release()
        raise
    cancel = CancelToken()
    events = run_turn(platform, state, cancel=cancel)

    def stream() -> Iterator[str]:
        try:
            for event in events:
                yield sse(event.kind, event.data)
        except CinerecError as exc:
            yield sse("error", {"detail": str(exc)})
        finally:
            events.close()
            ticket.release()

    return StreamingResponse(
        until_disconnect(request, cancel, stream()),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/chat/conversations", response_model=list[ConversationPublic], tags=["chat"])
def list_conversations(platform: PlatformDep, user: UserDep) -> list[ConversationPublic]:
    """The session's conversations, most recently active first."""
    records = conversations.list_conversations(platform, user_id=_require(user).id, limit=100)
    return [
        ConversationPublic(id=r.id, title=r.title, updated_at=r.updated_at.isoformat())
        for r in records
    ]


@router.get(
    "/api/chat/conversations/{conversation_id}",
    response_model=list[MessagePublic],
    tags=["chat"],
)
def get_conversation(
    platform: PlatformDep, user: UserDep, conversation_id: ConversationIdPath
) -> list[MessagePublic]:
    """The messages of one of the session's conversations, oldest first."""
    stored = conversations.list_messages(
        platform, conversation_id=conversation_id, user_id=_require(user).id
    )
    return [
        MessagePublic(
            id=m.id,
            role=m.role,
            content=m.content,
            cited_ids=list(m.cited_ids),
            flags=list(m.flags),
        )
        for m in stored
    ]


@router.delete(
    "/api/chat/conversations/{conversation_id}",
    tags=["chat"],
    status_code=204,
    response_class=Response,
)
def delete_conversation(
    platform: PlatformDep, user: UserDep, conversation_id: ConversationIdPath
) -> Response:
    """Delete one of the session's conversations with its messages."""
    conversations.delete_conversation(
        platform, conversation_id=conversation_id, user_id=_require(user).id
    )
    return Response(status_code=204)
