"""Where a Korean reason's time goes, and the current reasons code against an earlier commit's.

Two parts, one run:

* **Tokens** (no machine load in them): for every card of every page, the reason prompt's
  tokens by the model's own tokenizer (system message, card part), how many a page's next card
  reuses from the runtime's prefix cache (the common prefix with the previous card's prompt
  and reply), for the current code (*new*) and the code at ``--base`` (*old*), English and
  Korean pages on the same cards; and the generated tokens of every reason written below.
* **Times**, old and new interleaved on the same pages, so the load of a shared machine hits
  both alike: per page and variant, the first complete reason after warming only the shared
  system prompt (*system_only*: its card part is evaluated, then the reason generated) and after
  the product's warm-up of the first card's whole prompt (*first_card*: only generation left;
  the warm-up itself is timed too, which gives seconds per prompt token). The order of old and
  new alternates page by page; a page whose first card gets the same prompt and grammar from
  both (English, today) is timed once. With ``--read-cards``, the new code's stream of each
  Korean page goes on to that many cards, listed for reading. Medians carry 95% bootstrap
  intervals (pages resampled).

*old* is the code at ``--base``: its ``reasons.py``, ``evidence.py``, ``schemas.py`` and
``reason_*`` prompt files, imported beside the current package (everything else, the fact
checker included, is the current code's), so one process and one loaded model time both.

    nice -n 10 python benchmarks/words_latency_ko.py --base 5884daa --threads 2 --pages 16 \
        --read-cards 4
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*, tests.llm.redteam

from benchmarks.provenance import markdown_header, provenance  # noqa: E402
from benchmarks.words import _plans  # noqa: E402

RESULTS = Path("benchmarks/results")
_COPIED = ("evidence", "schemas", "reasons")  # modules taken from --base, in import order
_TEMPLATES = '''"""render() over the prompt files copied from the base commit."""
from pathlib import Path

from cinerec.llm.templates import PromptTemplate


def render(name, /, **values):
    text = (Path(__file__).parent / "prompts" / f"{name}.txt").read_text(encoding="utf-8")
    return PromptTemplate(name, text).render(**values)
'''


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def reasons_at(rev: str, into: Path) -> ModuleType:
    """The reasons module as it was at ``rev`` (with that commit's evidence, schemas and reason
    prompt files), imported as ``cinerec_at_<sha>.reasons`` next to the current package."""
    sha = _git("rev-parse", "--short", rev).strip()
    package = f"cinerec_at_{sha}"
    root = into / package
    (root / "prompts").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "templates.py").write_text(_TEMPLATES)
    for name in _git("ls-tree", "--name-only", sha, "src/cinerec/llm/prompts/").split():
        if Path(name).name.startswith("reason_"):
            (root / "prompts" / Path(name).name).write_text(_git("show", f"{sha}:{name}"))
    for module in _COPIED:
        source = _git("show", f"{sha}:src/cinerec/llm/{module}.py")
        for other in (*_COPIED, "templates"):
            source = source.replace(
                f"from cinerec.llm.{other} import", f"from {package}.{other} import"
            )
        (root / f"{module}.py").write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{package}.reasons")


def _prompt_ids(backend: Any, messages: Sequence[Any]) -> list[int]:
    """The token ids llama-cpp-python evaluates for ``messages`` (the GGUF's chat template)."""
    llm = backend._llm
    prompt = backend._chat_formatter(llm)(
        messages=[{"role": m.role, "content": m.content} for m in messages]
    ).prompt
    return list(llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _evidence(mod: ModuleType, movie: Any, history: Sequence[Any], profile: Any) -> Any:
    """The card's evidence as ``mod``'s reasons code builds it (older code takes no language)."""
    kw = {}
    if "language" in inspect.signature(mod.build_evidence).parameters:
        kw["language"] = profile.language
    return mod.build_evidence(movie, history, taste=profile.taste, **kw)


def _cached(backend: Any) -> list[int]:
    llm = backend._llm
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def _median_ci(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    vals = np.asarray(values, dtype=float)
    boots = [float(np.median(rng.choice(vals, len(vals)))) for _ in range(2000)]
    return {
        "n": len(vals),
        "p50": float(np.median(vals)),
        "p50_ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
        "mean": float(vals.mean()),
    }


def _ratio_ci(num: Sequence[float], den: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """sum(num)/sum(den) with a bootstrap interval over the paired rows."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    boots = []
    for _ in range(2000):
        i = rng.integers(len(a), size=len(a))
        boots.append(float(a[i].sum() / max(b[i].sum(), 1e-9)))
    return {
        "n": len(a),
        "value": float(a.sum() / max(b.sum(), 1e-9)),
        "ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
    }


def _token_rows(
    variants: dict[str, ModuleType], backend: Any, pages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per variant, page and card: prompt tokens and the part the previous card's leaves cached
    (previous prompt plus a stand-in reply of the same tokens: only the prefix matters)."""
    from cinerec.llm.persona import UserProfile

    rows = []
    for name, mod in variants.items():
        for page in pages:
            profile = UserProfile("Viewer", 30, "unspecified", page["taste"], page["language"])
            led: list[str] = []
            previous: list[int] = []
            for k, movie in enumerate(page["cards"]):
                evidence = _evidence(mod, movie, page["history"], profile)
                messages = mod._messages(evidence, page["language"], list(led))
                led.extend(f.key for f in evidence.lead(led)[:1])
                ids = _prompt_ids(backend, messages)
                system = _prompt_ids(backend, messages[:1])
                rows.append(
                    {
                        "variant": name,
                        "page": page["page"],
                        "language": page["language"],
                        "card": k,
                        "prompt_tokens": len(ids),
                        "system_tokens": len(system),
                        "card_tokens": len(ids) - _common(ids, system),
                        "reused_from_previous_card": _common(ids, previous) if previous else 0,
                        "evidence": messages[1].content,
                    }
                )
                previous = ids
    return rows


def _first_reason(
    mod: ModuleType,
    backend: Any,
    profile: Any,
    history: list[Any],
    cards: list[Any],
    timeout_s: float,
) -> tuple[dict[str, Any], Iterator[Any]]:
    """The timed first reason of ``cards`` and the stream of the page's other reasons."""
    cached = _cached(backend)
    evidence = _evidence(mod, cards[0], history, profile)
    ids = _prompt_ids(backend, mod._messages(evidence, profile.language, []))
    start = time.perf_counter()
    stream = mod.write_reasons(backend, profile, "", history, cards, timeout_s=timeout_s)
    reason = next(stream)
    seconds = time.perf_counter() - start
    raw = reason.raw_text or ""
    row = {
        "seconds": round(seconds, 3),
        "prompt_tokens": len(ids),
        "new_prompt_tokens": len(ids) - _common(ids, cached),
        "generated_tokens": backend.count_tokens(raw) + 1,  # + the end-of-text token
        "raw_text": raw,
        "text": reason.text,
        "template": reason.template,
        "error": reason.error,
        "load1": round(os.getloadavg()[0], 2),
    }
    return row, itertools.chain([reason], stream)


def _read_row(
    mod: ModuleType, page: dict[str, Any], card: Any, reason: Any, profile: Any
) -> dict[str, Any]:
    evidence = _evidence(mod, card, page["history"], profile)
    return {
        "page": page["page"],
        "title": card.title,
        "facts": [f"{f.kind}: {f.value} {list(f.watched)}" for f in evidence.facts],
        "raw_text": reason.raw_text,
        "text": reason.text,
        "template": reason.template,
        "repairs": list(reason.repairs),
    }


def _same_prompt(variants: dict[str, ModuleType], backend: Any, profile: Any, page: Any) -> bool:
    """Whether old and new give the page's first card the same system and card prompt (then
    they write the same reason at temperature 0, and it is timed once)."""
    prompts = []
    for mod in variants.values():
        evidence = _evidence(mod, page["cards"][0], page["history"], profile)
        messages = mod._messages(evidence, profile.language, [])
        prompts.append((_prompt_ids(backend, messages), mod._schema(profile.language)))
    return all(p == prompts[0] for p in prompts)


def _timed_page(
    variants: dict[str, ModuleType],
    backend: Any,
    page: dict[str, Any],
    order: list[str],
    args: argparse.Namespace,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Old and new timed on one page (once when their prompts are the same); with
    ``--read-cards``, the new code's stream goes on to write that many cards of a Korean page."""
    from cinerec.llm.persona import UserProfile

    profile = UserProfile("Viewer", 30, "unspecified", page["taste"], page["language"])
    history, cards = page["history"], page["cards"]
    same = _same_prompt(variants, backend, profile, page)
    rows, read = [], []
    for mode in args.modes.split(","):
        # a different first card each mode, so the second is not served from the first's cache
        first = cards[0] if mode == "first_card" else cards[1]
        ordered = [first, *[c for c in cards if c is not first]]
        for name in ["new"] if same else order:
            mod = variants[name]
            mod.warm_prefix(backend, profile, "", history)  # the variant's system prompt
            row: dict[str, Any] = {"variant": name, "mode": mode, "same_prompt": same}
            if mode == "first_card":
                evidence = _evidence(mod, first, history, profile)
                ids = _prompt_ids(backend, mod._messages(evidence, profile.language, []))
                new = len(ids) - _common(ids, _cached(backend))
                start = time.perf_counter()
                mod.warm_prefix(backend, profile, "", history, movie=first)
                row["warm_s"] = round(time.perf_counter() - start, 3)
                row["warm_new_prompt_tokens"] = new
            timed, stream = _first_reason(mod, backend, profile, history, ordered, args.timeout)
            row.update(timed)
            rows.append({"page": page["page"], "language": page["language"], **row})
            if same:
                rows.append({**rows[-1], "variant": "old"})
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
            if name == "new" and mode == "first_card" and page["language"] == "ko":
                for card, reason in zip(ordered[: args.read_cards], stream, strict=False):
                    read.append(_read_row(mod, page, card, reason, profile))
                    print(json.dumps(read[-1], ensure_ascii=False), flush=True)
    return rows, read


def _summary(tokens: list[dict[str, Any]], timed: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens": {}, "times": {}, "rates": {}}
    for name in sorted({r["variant"] for r in tokens}):
        for lang in ("en", "ko"):
            rows = [r for r in tokens if r["variant"] == name and r["language"] == lang]
            gen = [
                r["generated_tokens"]
                for r in timed
                if r["variant"] == name and r["language"] == lang
            ]
            out["tokens"][f"{name}_{lang}"] = {
                "system_tokens": _median_ci([r["system_tokens"] for r in rows]),
                "card_tokens": _median_ci([r["card_tokens"] for r in rows]),
                "reused_by_next_card": _median_ci(
                    [r["reused_from_previous_card"] for r in rows if r["card"] > 0]
                ),
                "generated_tokens": _median_ci(gen) if gen else None,
            }
            for mode in ("system_only", "first_card"):
                sel = [
                    r
                    for r in timed
                    if r["variant"] == name and r["language"] == lang and r["mode"] == mode
                ]
                if sel:
                    out["times"][f"{mode}_{name}_{lang}"] = {
                        **_median_ci([r["seconds"] for r in sel]),
                        "templates": sum(bool(r["template"]) for r in sel),
                        "errors": sum(bool(r["error"]) for r in sel),
                    }
            warm = [r for r in timed if r["variant"] == name and r["language"] == lang]
            warm = [r for r in warm if r["mode"] == "first_card"]
            if warm:
                out["rates"][f"{name}_{lang}"] = {
                    "s_per_prompt_token": _ratio_ci(
                        [r["warm_s"] for r in warm], [r["warm_new_prompt_tokens"] for r in warm]
                    ),
                    "s_per_generated_token": _ratio_ci(
                        [r["seconds"] for r in warm], [r["generated_tokens"] for r in warm]
                    ),
                }
    return out


_TOKEN_COLUMNS = ("system_tokens", "card_tokens", "reused_by_next_card", "generated_tokens")


def _table(title: str, header: list[str], rows: list[list[Any]]) -> list[str]:
    return [
        "",
        f"## {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(x) for x in row) + " |" for row in rows),
    ]


def _markdown(s: dict[str, Any], args: argparse.Namespace) -> str:
    def cell(c: dict[str, Any] | None, fmt: str = ".2f") -> str:
        if not c:
            return "-"
        lo, hi = c["p50_ci95"]
        return f"{c['p50']:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"

    lines = [
        "# Korean reasons: where the first reason's time goes, old against new",
        "",
        markdown_header(s["provenance"]),
        f"Model `{args.model}`, {args.threads} threads, {s['pages_timed']} of {args.pages} pages "
        "timed (English and Korean in turn, the same cards for both variants; tokens counted on "
        "all), in-process. *old*: reasons code and prompts at "
        f"`{s['base']}`; *new*: this commit's. Old and new interleaved page by page (order "
        "alternating), so machine load hits both alike; machine load average (1 min) while "
        f"timed: mean {s['load1_mean']:.1f} on {os.cpu_count()} CPUs shared with other jobs, so "
        "the seconds are upper bounds of a quiet machine's; token counts do not depend on load. "
        "Medians with 95% bootstrap intervals.",
    ]
    tokens = [
        [name, lang, *(cell(t[k], ".0f") for k in _TOKEN_COLUMNS)]
        for (name, lang), t in ((key.split("_"), t) for key, t in s["tokens"].items())
    ]
    lines += _table(
        "Tokens per card (model's tokenizer; all cards of every page)",
        ["variant", "language", "system msg", "card part", "reused by next card", "generated"],
        tokens,
    )
    times = []
    for key, c in s["times"].items():
        mode, name, lang = key.rsplit("_", 2)
        times.append([mode, name, lang, c["n"], cell(c), f"{c['mean']:.2f}", c["templates"],
                      c["errors"]])  # fmt: skip
    lines += _table(
        "First complete reason of a page, seconds",
        ["warm-up", "variant", "language", "n", "p50 s [95% CI]", "mean s", "templates", "errors"],
        times,
    )

    def ms(r: dict[str, Any]) -> str:
        return f"{1000 * r['value']:.1f} [{1000 * r['ci95'][0]:.1f}, {1000 * r['ci95'][1]:.1f}]"

    rates = [
        [*key.split("_"), ms(r["s_per_prompt_token"]), ms(r["s_per_generated_token"])]
        for key, r in s["rates"].items()
    ]
    lines += _table(
        "Seconds per token on this machine (first_card rows: warm-up / prompt tokens it "
        "evaluated; reason / tokens it generated)",
        ["variant", "language", "ms per prompt token [95% CI]", "ms per generated token [95% CI]"],
        rates,
    )
    if s["read_rows"]:
        lines += ["", "## Korean reasons of the new code, page by page (for reading)", ""]
        for r in s["read_rows"]:
            flag = " (template)" if r["template"] else ""
            lines.append(f"- page {r['page']}, {r['title']}: {r['text']}{flag}")
    lines += ["", "## The Korean first_card reasons, old and new", ""]
    for r in s["rows"]:
        if r["language"] == "ko" and r["mode"] == "first_card":
            flag = " (template)" if r["template"] else ""
            lines.append(f"- page {r['page']} {r['variant']}: {r['text']}{flag}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the commit whose reasons code is 'old'")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--tokens-only", action="store_true", help="count tokens, time nothing")
    parser.add_argument(
        "--read-cards",
        type=int,
        default=0,
        help="the new code's first_card stream goes on to this many cards of a Korean page",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a page may take")
    parser.add_argument(
        "--modes", default="system_only,first_card", help="warm-ups to time, comma-separated"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "words_latency_ko")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from benchmarks.llm_requests import request_inputs
    from cinerec.llm import reasons

    with tempfile.TemporaryDirectory() as tmp:
        variants = {"old": reasons_at(args.base, Path(tmp)), "new": reasons}
        catalog, popular, histories, backend = request_inputs(args.model, args.threads)
        rng = np.random.default_rng(args.seed)
        pages = []
        for p, (kind, language, taste) in enumerate(_plans(args.pages, args.seed)):
            history = histories[int(rng.integers(len(histories)))]
            seen = {m.movie_id for m in history}
            cards = [catalog[int(i)] for i in rng.permutation(popular) if int(i) not in seen][:5]
            pages.append(
                {"page": p, "language": language, "kind": kind, "taste": taste,
                 "history": history, "cards": cards}
            )  # fmt: skip
        tokens = _token_rows(variants, backend, pages)
        timed: list[dict[str, Any]] = []
        read: list[dict[str, Any]] = []
        _write(args, tokens, timed, read, 0)
        if not args.tokens_only:  # results are rewritten after every page: a cut run keeps them
            for done, page in enumerate(pages, 1):
                order = ["old", "new"] if page["page"] % 4 < 2 else ["new", "old"]
                page_rows, page_read = _timed_page(variants, backend, page, order, args)
                timed.extend(page_rows)
                read.extend(page_read)
                _write(args, tokens, timed, read, done)
    print(args.out.with_suffix(".md").read_text())


def _write(
    args: argparse.Namespace,
    tokens: list[dict[str, Any]],
    timed: list[dict[str, Any]],
    read: list[dict[str, Any]],
    done: int,
) -> None:
    summary: dict[str, Any] = {
        "model": args.model,
        "threads": args.threads,
        "pages": args.pages,
        "pages_timed": done,
        "base": _git("rev-parse", "--short", args.base).strip(),
        **_summary(tokens, timed),
        "load1_mean": float(np.mean([r["load1"] for r in timed])) if timed else 0.0,
        "rows": timed,
        "read_rows": read,
        "token_rows": tokens,
        "provenance": provenance(),
    }
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    args.out.with_suffix(".md").write_text(_markdown(summary, args))


if __name__ == "__main__":
    main()
