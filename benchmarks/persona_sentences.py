"""Personas from the real model: do they end at a sentence, do their pronouns fit the profile?

``generate`` writes personas as the platform does (:func:`cinerec.llm.persona.write_persona`,
the embedded model, greedy) for varied profiles: English and Korean in turn; genders
unspecified ("prefer not to say"), female and male in turn (names drawn apart from the gender,
so a name never tells it); the ticked movies are a real ml-latest-small user's last 8 liked
movies; the taste sentence is an ordinary one from a pool of realistic tastes, every tenth a
red-team input (``tests/llm/redteam.py``). Per persona it stores the model's raw reply, how the
generation stopped (``finish_reason``, completion tokens, the ``max_tokens`` asked for) and
what the product made of it (shown text, repairs, fallback). Rows are appended as they are
made; a rerun resumes.

``report`` scores the stored rows with the independent checker
(:mod:`benchmarks.checks.persona_text`, which imports nothing from ``cinerec``), on the RAW
reply, before any repair:

- ends at a sentence: the reply is one complete JSON object whose persona ends with a sentence
  terminator (Korean: after a sentence-final syllable), and the generation was not stopped by
  ``max_tokens``; a timeout, an error, or no reply is a failure;
- pronoun errors: gendered pronouns the profile does not allow (unspecified: any of
  he/she/그/그녀...); words that state a gender (female, 여성) are counted beside;
- tags (IMAX, bracketed lists) beside;

and, separately, how often the product's repair changed the text (or replaced it with the
template). Rates carry Wilson 95 % intervals. Targets (issue 21): 100 % end at a sentence, 0
pronoun errors; a miss is printed as such.

    nice -n 10 python benchmarks/persona_sentences.py generate --model qwen2.5-coder-0.5b \
        --n 100 --threads 1 --tag 0.5b
    python benchmarks/persona_sentences.py report --tag 0.5b
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*, tests.llm.redteam

from benchmarks.checks.persona_text import (  # noqa: E402
    ends_at_sentence,
    gender_words,
    glued_words,
    pronoun_errors,
    reply_persona,
    tags,
    wilson,
)
from benchmarks.provenance import markdown_header, provenance  # noqa: E402

RESULTS = Path("benchmarks/results")
GENDERS = ("unspecified", "female", "male")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
NAMES = {
    "en": ("Alex", "Emma", "James", "Sofia", "Daniel", "Olivia", "Chris", "Mia", "Sam", "Noah"),
    "ko": ("민지", "지훈", "서연", "하준", "지우", "도윤", "수아", "예준", "하은", "시우"),
}
TASTES = {
    "en": (
        "slow-burn sci-fi, no horror",
        "feel-good comedies and heist movies",
        "dark crime dramas with great acting",
        "animated films for a family night",
        "war epics and historical dramas, nothing too gory",
        "quirky indie romances",
        "I love twisty thrillers and anything by Christopher Nolan",
        "classic westerns and old-school adventure films",
        "Movies that make me cry, like good family dramas.",
        "Smart documentaries and true stories; I skip musicals.",
        "Big action blockbusters with great fight scenes",
        "Mind-bending mysteries, I hate predictable endings",
    ),
    "ko": (
        "잔잔한 로맨스 영화, 공포는 싫어요",
        "반전 있는 스릴러와 범죄 영화",
        "가족과 볼 애니메이션",
        "웅장한 SF 블록버스터",
        "웃긴 코미디 영화를 좋아해요",
        "전쟁 영화와 역사 드라마를 즐겨 봐요, 너무 잔인한 건 싫어요",
        "크리스토퍼 놀란 감독 영화처럼 머리 쓰는 영화",
        "감동적인 가족 드라마, 눈물 나는 영화",
        "액션 영화와 범죄 스릴러를 좋아합니다",
        "뮤지컬 영화는 별로고 미스터리를 좋아해요",
        "오래된 서부 영화와 모험 영화",
        "다큐멘터리와 실화 바탕 영화",
    ),
}


# the rates reported, per group: key -> table header
COLUMNS = {
    "raw_ends_at_sentence": "raw ends at a sentence",
    "raw_pronoun_error": "raw pronoun error",
    "raw_gender_word": "raw gender word",
    "raw_tag": "raw tag",
    "raw_glued_word": "raw glued words",
    "cut_by_max_tokens": "cut by max_tokens",
    "product_changed": "product repair changed the text",
    "product_fallback": "product fallback (template)",
    "shown_ends_at_sentence": "shown ends at a sentence",
    "shown_pronoun_error": "shown pronoun error",
}


def plans(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` profiles: language alternating en/ko, gender cycling over :data:`GENDERS` within
    each language, a red-team taste every tenth, names and ages drawn by ``seed``."""
    from tests.llm.redteam import REDTEAM

    rng = np.random.default_rng(seed)
    red = {"en": [], "ko": []}
    for kind, text in REDTEAM:
        red["ko" if HANGUL.search(text) else "en"].append((kind, text))
    out = []
    for i in range(n):
        language = "en" if i % 2 == 0 else "ko"
        if i % 10 == 9:
            kind, taste = red[language][int(rng.integers(len(red[language])))]
        else:
            kind, taste = "ordinary", TASTES[language][int(rng.integers(len(TASTES[language])))]
        age = int(rng.integers(18, 71)) if rng.random() < 0.8 else None
        out.append(
            {
                "i": i,
                "language": language,
                "gender": GENDERS[(i // 2) % len(GENDERS)],
                "name": NAMES[language][int(rng.integers(len(NAMES[language])))],
                "age": age,
                "kind": kind,
                "taste": taste,
                "history_draw": int(rng.integers(1 << 30)),
            }
        )
    return out


class _Recorder:
    """The backend, with each ``complete`` call's request and completion kept for the row."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.last: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def complete(self, messages: Any, **kwargs: Any) -> Any:
        self.last = {"max_tokens": kwargs.get("max_tokens"), "schema": "schema" in kwargs}
        completion = self._inner.complete(messages, **kwargs)
        self.last.update(
            finish_reason=completion.extra.get("finish_reason"),
            completion_tokens=completion.completion_tokens,
            prompt_tokens=completion.prompt_tokens,
        )
        return completion


def _rows_path(tag: str) -> Path:
    return RESULTS / f"persona_sentences_{tag}.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    """The rows of ``path`` and of its shards (``<tag>.shardKofN.jsonl``), ordered by plan."""
    rows = []
    for part in [path, *sorted(path.parent.glob(path.stem + ".shard*.jsonl"))]:
        if part.exists():
            text = part.read_text(encoding="utf-8")
            rows += [json.loads(line) for line in text.splitlines() if line]
    return sorted(rows, key=lambda r: r["i"])


def generate(args: argparse.Namespace) -> None:
    """Write ``--n`` personas with the real model; rows go to the tag's ``.jsonl`` as made."""
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from benchmarks.llm_requests import request_inputs
    from cinerec.llm.persona import UserProfile, write_persona

    _, _, histories, backend = request_inputs(args.model, args.threads)
    recorder = _Recorder(backend)
    shard, shards = (int(x) for x in args.shard.split("/"))
    path = _rows_path(args.tag)
    done = {r["i"] for r in _rows(path)}
    if shards > 1:
        path = path.with_suffix(f".shard{shard}of{shards}.jsonl")
    with path.open("a", encoding="utf-8") as sink:
        for plan in plans(args.n, args.seed):
            if plan["i"] in done or plan["i"] % shards != shard:
                continue
            history = histories[plan["history_draw"] % len(histories)]
            profile = UserProfile(
                plan["name"], plan["age"], plan["gender"], plan["taste"], plan["language"]
            )
            recorder.last = {}
            start = time.perf_counter()
            persona = write_persona(recorder, profile, history, timeout_s=args.timeout)
            row = {
                **plan,
                "model": args.model,
                "threads": args.threads,
                "history": [m.movie_id for m in history],
                "raw_text": persona.raw_text,
                "text": persona.text,
                "fallback": persona.fallback,
                "error": persona.error,
                "repairs": list(persona.repairs),
                "seconds": round(time.perf_counter() - start, 2),
                **{k: v for k, v in recorder.last.items() if k != "schema"},
            }
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            raw = reply_persona(persona.raw_text)
            print(
                f"[{plan['i'] + 1}/{args.n}] {plan['language']} {plan['gender']}: "
                f"{row['seconds']:.0f} s, ends={ends_at_sentence(raw, plan['language'])} "
                f"pronouns={pronoun_errors(raw, plan['gender'])}",
                flush=True,
            )


def score(row: dict[str, Any]) -> dict[str, Any]:
    """The independent checks of one stored row (raw reply first, then what the product did)."""
    raw = reply_persona(row.get("raw_text"))
    cut = row.get("finish_reason") == "length"
    language = row["language"]
    return {
        "i": row["i"],
        "language": language,
        "gender": row["gender"],
        "kind": row["kind"],
        "raw_complete_json": raw is not None,
        "cut_by_max_tokens": cut,
        "raw_ends_at_sentence": raw is not None and not cut and ends_at_sentence(raw, language),
        "raw_pronoun_errors": pronoun_errors(raw, row["gender"]),
        "raw_gender_words": gender_words(raw),
        "raw_tags": tags(raw),
        "raw_glued_words": glued_words(raw),
        "raw_words": len(raw.split()) if raw else 0,
        "raw_chars": len(raw) if raw else 0,
        "product_changed": row["fallback"] or raw is None or row["text"] != raw,
        "product_fallback": row["fallback"],
        "shown_ends_at_sentence": ends_at_sentence(row["text"], language),
        "shown_pronoun_errors": pronoun_errors(row["text"], row["gender"]),
        "seconds": row["seconds"],
    }


def _rate(scored: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    k = sum(1 for s in scored if s[key])
    lo, hi = wilson(k, len(scored))
    return {"k": k, "n": len(scored), "rate": k / len(scored) if scored else 0.0, "ci95": [lo, hi]}


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rates over all rows and per language and gender."""
    scored = [score(r) for r in rows]
    for s in scored:
        s["raw_pronoun_error"] = bool(s["raw_pronoun_errors"])
        s["raw_gender_word"] = bool(s["raw_gender_words"])
        s["raw_tag"] = bool(s["raw_tags"])
        s["raw_glued_word"] = bool(s["raw_glued_words"])
        s["shown_pronoun_error"] = bool(s["shown_pronoun_errors"])
    groups: dict[str, list[dict[str, Any]]] = {"all": scored}
    for s in scored:
        groups.setdefault(s["language"], []).append(s)
        groups.setdefault(s["gender"], []).append(s)
    seconds = [s["seconds"] for s in scored]
    return {
        "n": len(scored),
        "models": sorted({r["model"] for r in rows}),
        "groups": {g: {k: _rate(v, k) for k in COLUMNS} for g, v in groups.items()},
        "pronoun_errors_raw": sum(len(s["raw_pronoun_errors"]) for s in scored),
        "seconds_p50": float(np.median(seconds)) if seconds else None,
        "seconds_p90": float(np.percentile(seconds, 90)) if seconds else None,
        "raw_words_max": max((s["raw_words"] for s in scored), default=0),
        "raw_chars_max": max((s["raw_chars"] for s in scored), default=0),
        "failures": [s for s in scored if not s["raw_ends_at_sentence"] or s["raw_pronoun_error"]],
        "targets": {
            "raw ends at a sentence: 100%": all(s["raw_ends_at_sentence"] for s in scored),
            "raw pronoun errors: 0": not any(s["raw_pronoun_error"] for s in scored),
        },
    }


def _pct(r: dict[str, Any]) -> str:
    lo, hi = r["ci95"]
    return f"{r['k']}/{r['n']} = {100 * r['rate']:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]"


def markdown(summary: dict[str, Any], tag: str) -> str:
    """The report table of one tag."""
    lines = [
        f"# Personas: end at a sentence, pronouns ({tag})",
        "",
        markdown_header(summary["provenance"]),
        f"Rows generated at commit {summary.get('rows_commit') or 'unknown'}.",
        "",
        f"{summary['n']} personas by {', '.join(summary['models'])}; raw = the model's reply "
        "before any product repair, scored by `benchmarks/checks/persona_text.py`. "
        "Rates: k/n = % [Wilson 95% interval].",
        "",
        "| group | " + " | ".join(COLUMNS.values()) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for group, rates in summary["groups"].items():
        lines.append(f"| {group} | " + " | ".join(_pct(rates[k]) for k in COLUMNS) + " |")
    lines += ["", "Targets (issue 21):", ""]
    for target, met in summary["targets"].items():
        lines.append(f"- {target}: {'MET' if met else 'MISSED'}")
    lines += [
        "",
        f"Seconds per persona: p50 {summary['seconds_p50']:.1f}, p90 {summary['seconds_p90']:.1f}"
        f"; longest raw persona {summary['raw_words_max']} words, {summary['raw_chars_max']} "
        "characters.",
        "",
    ]
    if summary["failures"]:
        lines += ["Failures (raw):", ""]
        for f in summary["failures"]:
            lines.append(
                f"- #{f['i']} {f['language']} {f['gender']}: ends={f['raw_ends_at_sentence']}, "
                f"cut={f['cut_by_max_tokens']}, pronouns={f['raw_pronoun_errors']}"
            )
        lines.append("")
    return "\n".join(lines)


def report(args: argparse.Namespace) -> dict[str, Any]:
    """Score the tag's stored rows; write ``.json`` and ``.md`` beside them."""
    rows = _rows(_rows_path(args.tag))
    if not rows:
        raise SystemExit(f"no rows in {_rows_path(args.tag)}; run generate first")
    summary = {"provenance": provenance(), "rows_commit": args.rows_commit, **summarise(rows)}
    base = RESULTS / f"persona_sentences_{args.tag}"  # tags hold dots (0.5b): no with_suffix
    Path(f"{base}.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = markdown(summary, args.tag)
    Path(f"{base}.md").write_text(text, encoding="utf-8")
    print(text)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write personas with the real model")
    gen.add_argument("--model", default="qwen2.5-coder-1.5b")
    gen.add_argument("--n", type=int, default=100)
    gen.add_argument("--threads", type=int, default=1)
    gen.add_argument("--seed", type=int, default=21)
    gen.add_argument("--timeout", type=float, default=600.0)
    gen.add_argument("--tag", required=True)
    gen.add_argument(
        "--shard",
        default="0/1",
        help="K/N: only plans i with i %% N == K (one-thread processes side by side); rows go "
        "to <tag>.shardKofN.jsonl, and report reads them all",
    )
    rep = sub.add_parser("report", help="score the stored rows")
    rep.add_argument("--tag", required=True)
    rep.add_argument("--rows-commit", help="the commit the rows were generated at, for the record")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
