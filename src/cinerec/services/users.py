"""Users, their profiles and watched movies. Sessions are unguessable tokens, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from cinerec.db import repository as repo
from cinerec.db.repository import PersonaRecord as PersonaRecord
from cinerec.db.repository import UserRecord as UserRecord
from cinerec.errors import NotFoundError, ValidationError
from cinerec.llm.grounding import sanitize_user_text
from cinerec.services.platform import Platform
from cinerec.services.warm import request_reasons_warm_up

Gender = Literal["female", "male", "other", "unspecified"]
Language = Literal["en", "ko"]

MAX_NAME = 60
MIN_AGE, MAX_AGE = 5, 120


class ProfileInput(BaseModel):
    """What a user may submit about themselves. Every field is checked before anything is saved."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME)
    age: int | None = Field(default=None, ge=MIN_AGE, le=MAX_AGE)
    gender: Gender = "unspecified"
    taste: str = ""
    language: Language = "en"

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        cleaned = "".join(ch for ch in value if ch.isprintable())
        if not cleaned.strip():
            raise ValueError("name must contain visible characters")
        return cleaned


def new_session_token() -> str:
    """A fresh unguessable browser session token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored for a token: its sha256; the raw token never reaches the database."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 5, 5  # 25 symbols of 5 bits: 125 bits


def new_recovery_code() -> str:
    """A recovery code like ``K7QX2-...``: five groups of five symbols, 125 random bits."""
    symbols = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(25))
    return "-".join(symbols[i : i + RECOVERY_GROUP_LEN] for i in range(0, 25, RECOVERY_GROUP_LEN))


def _recovery_hash(code: str) -> str:
    """The stored form of a code: sha256 of its symbols, ignoring case, spaces and dashes."""
    symbols = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
    return hash_token("recovery:" + symbols)


def issue_recovery_code(platform: Platform, *, user_id: int) -> str:
    """Make a new recovery code for a user and return it; only its hash is stored, so it can be
    shown once. An earlier code of the user stops working."""
    code = new_recovery_code()
    with platform.session() as session:
        repo.set_recovery_code_hash(session, user_id=user_id, code_hash=_recovery_hash(code))
    return code


def restore_session(platform: Platform, *, code: str) -> tuple[str, int]:
    """Move a profile to this browser: a new session token for the user whose recovery code
    this is (the session of the other browser ends). Returns (token, user id).

    Raises:
        ValidationError: the code is not of the right form.
        NotFoundError: no profile has this code.
    """
    symbols = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
    if len(symbols) != RECOVERY_GROUPS * RECOVERY_GROUP_LEN:
        raise ValidationError(
            "A recovery code has 25 letters and digits (dashes optional), like the one shown "
            "when the profile was made."
        )
    token = new_session_token()
    with platform.session() as session:
        user_id = repo.rotate_session_by_recovery_hash(
            session, code_hash=_recovery_hash(code), token_hash=hash_token(token)
        )
    if user_id is None:
        raise NotFoundError("No profile has this recovery code; check it and try again.")
    return token, user_id


def parse_profile(data: dict[str, object], *, max_taste_chars: int) -> ProfileInput:
    """Validate raw input into a profile, or raise ValidationError with a readable message."""
    taste = data.get("taste") or ""
    if isinstance(taste, str) and len(taste) > max_taste_chars:
        raise ValidationError(
            f"The taste text is {len(taste):,} characters long; keep it under "
            f"{max_taste_chars} characters (a sentence or two is enough)."
        )
    raw = {k: v for k, v in data.items() if v not in (None, "") or k == "name"}
    if raw.get("age") in ("", None):
        raw.pop("age", None)
    try:
        profile = ProfileInput.model_validate(raw)
    except PydanticValidationError as exc:
        raise ValidationError(_readable(exc)) from None
    return profile.model_copy(update={"taste": sanitize_user_text(profile.taste, max_taste_chars)})


def _readable(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "input"
        if field == "age":
            parts.append(f"Age must be a whole number between {MIN_AGE} and {MAX_AGE}.")
        elif field == "name":
            parts.append(f"Please give a name of 1 to {MAX_NAME} visible characters.")
        elif field == "gender":
            parts.append("Gender must be one of female, male, other or unspecified.")
        elif field == "language":
            parts.append("Language must be 'en' or 'ko'.")
        else:
            parts.append(f"{field}: {err['msg']}")
    return " ".join(dict.fromkeys(parts))


def save_profile(
    platform: Platform, *, token: str | None, profile: ProfileInput
) -> tuple[str, int]:
    """Create the user for a new session, or update the session's user. Returns (token, user id)."""
    with platform.session() as session:
        user = repo.get_user_by_token_hash(session, token_hash=hash_token(token)) if token else None
        fields = profile.model_dump()
        if user is None:
            token = new_session_token()
            user_id = repo.create_user(session, token_hash=hash_token(token), **fields)
        else:
            assert token is not None
            user_id = user.id
            repo.update_user_profile(session, user_id=user_id, **fields)
    request_reasons_warm_up(platform, user_id=user_id)
    return token, user_id


def current_user(platform: Platform, token: str | None) -> repo.UserRecord | None:
    """The user behind a session token, or None for a new or unknown session."""
    if not token or len(token) > 200:
        return None
    with platform.session() as session:
        return repo.get_user_by_token_hash(session, token_hash=hash_token(token))


def parse_rating(value: object) -> float | None:
    """An optional 1-5 star rating from a form or JSON value."""
    if value in (None, ""):
        return None
    try:
        rating = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("A rating must be a number from 1 to 5, or empty.") from None
    if not 1 <= rating <= 5:
        raise ValidationError("A rating must be a number from 1 to 5, or empty.")
    return rating


def parse_movie_id(value: object) -> int:
    """A movie id from a form or JSON value."""
    try:
        movie_id = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError("A movie id must be a whole number.") from None
    if movie_id <= 0 or movie_id > 2**31:
        raise NotFoundError(f"There is no movie with id {movie_id} in the catalog.")
    return movie_id


def mark_watched(platform: Platform, *, user_id: int, movie_id: int, rating: float | None) -> None:
    """Add (or re-rate) a watched movie; unknown ids raise NotFoundError and change nothing."""
    with platform.session() as session:
        repo.set_watched(session, user_id=user_id, movie_id=movie_id, rating=rating)
    request_reasons_warm_up(platform, user_id=user_id)


def unmark_watched(platform: Platform, *, user_id: int, movie_id: int) -> None:
    """Remove a movie from the watched list (no error when it was not there)."""
    with platform.session() as session:
        repo.remove_watched(session, user_id=user_id, movie_id=movie_id)
    request_reasons_warm_up(platform, user_id=user_id)


def watched_ids(platform: Platform, *, user_id: int) -> set[int]:
    """The ids of the user's watched movies."""
    with platform.session() as session:
        return {w.movie_id for w in repo.list_watched(session, user_id=user_id)}


def latest_persona(platform: Platform, *, user_id: int) -> PersonaRecord | None:
    """The user's newest persona, or None."""
    with platform.session() as session:
        return repo.latest_persona(session, user_id=user_id)
