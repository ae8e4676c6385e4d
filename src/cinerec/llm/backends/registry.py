"""Builds the configured language-model backend from :class:`cinerec.config.Settings`.

An explicit dict maps each :class:`LLMBackendName` to a builder. ``none`` builds nothing: every
feature then uses its flagged, deterministic fallback.
"""

from __future__ import annotations

from collections.abc import Callable

from cinerec.config import LLMBackendName, Settings
from cinerec.llm.backends.base import LLMBackend


def _build_llamacpp(settings: Settings) -> LLMBackend:
    from cinerec.llm.backends.llamacpp import LlamaCppBackend
    from cinerec.llm.models import EMBEDDED_MODELS, locate_gguf

    path = locate_gguf(settings.llm_model, settings.cache_dir)
    return LlamaCppBackend(
        path,
        n_threads=settings.llm_threads,
        n_ctx=settings.llm_context,
        seed=settings.seed,
        model_name=settings.llm_model if settings.llm_model in EMBEDDED_MODELS else None,
    )


def _build_openai(settings: Settings) -> LLMBackend:
    from cinerec.llm.backends.openai_http import OpenAICompatibleBackend

    return OpenAICompatibleBackend(
        settings.openai_base_url,
        settings.openai_model,
        settings.openai_api_key.get_secret_value(),
        settings.llm_timeout_s,
        caches_prefix=settings.openai_caches_prefix,
        schema_format=settings.openai_schema_format,
    )


def _build_none(settings: Settings) -> None:
    return None


BACKENDS: dict[LLMBackendName, Callable[[Settings], LLMBackend | None]] = {
    LLMBackendName.LLAMACPP: _build_llamacpp,
    LLMBackendName.OPENAI: _build_openai,
    LLMBackendName.NONE: _build_none,
}


def build_backend(settings: Settings) -> LLMBackend | None:
    """The backend ``settings.llm_backend`` names, or None for ``none`` (fallbacks everywhere).

    For ``llamacpp`` this resolves (and on first use joins and verifies) the GGUF file but does
    not load the weights; they load on the first call or on ``backend.load()``.

    Raises:
        LLMError: the embedded model is missing or corrupt (the message gives the pip command).
    """
    return BACKENDS[settings.llm_backend](settings)
