"""Two runs of English reasons on the same cards: noun phrases that call a movie what it is not.

    python benchmarks/copula_claims.py compare \\
        --run v16en=benchmarks/results/words_1.5b_v16en.jsonl \\
        --run v17en=benchmarks/results/words_1.5b_v17en.jsonl --out words_copula_v16en_v17en
    python benchmarks/copula_claims.py blind --run ... --run ... --seed 21 --limit 50 \\
        --out benchmarks/data/words_blind_v16en_v17en_en.jsonl

The blind reads of words v16en (issue 21) found that most false English claims left were a
copula or an appositive before a record keyword: "Jennifer Aniston, a Christianity fantasy
star", "Quiz Show is a television show". :func:`noun_phrases` finds such phrases with its own
rules (not the product's grammar): after a form of "be" or a comma, the article
"a"/"an" and the words up to the first word that cannot belong to the noun (a preposition, a
conjunction, a relative pronoun, a verb in -ing or -ed, a mark), at most five; the last is its
head. A phrase whose head is no word for a film (:data:`FILM_NOUNS`) is a claim about what the
movie (or person) is.

``compare`` pairs the two runs' reason rows on (page, movie id) and counts, per run, raw
reasons with such a phrase, with an appositive of any head, ending mid-clause
(:func:`cinerec.llm.grounding.dangling_end`), of 17 words or more, shown as the evidence
template and with a claim the fact checker rejects (both as ``benchmarks/words.py report``
recomputes them from the raw reply with the current code), and the model's errors (the row's
``fallback``), and whether the card's grammar as the code now builds it admits the raw text
(:func:`cinerec.llm.reasons.card_schema`: what an earlier run's texts lose to it); each with
a 95 % Wilson interval, and the discordant pairs with an exact sign
test (:mod:`benchmarks.words_blind_pairs`). Writes ``benchmarks/results/<out>.json`` and ``.md``.

``blind`` writes, for a seeded draw of at most ``--limit`` (page, movie) ids where the two
runs' raw texts differ, both texts as two rows of one shuffled file (``sample_id``, an opaque
``key``, ``text``, the card's record and the ticked movies) and, beside it, ``<out>_key.json``
(key to run, and how many ids had the same text in both runs), for a reader who must not know
which run wrote which text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.* as a script

from benchmarks.provenance import markdown_header, provenance  # noqa: E402

COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "being"})
ARTICLES = frozenset({"a", "an"})
#: Heads that name the movie as a film or a kind of film.
FILM_NOUNS = frozenset(
    """
    film films movie movies picture story stories tale tales thriller thrillers drama dramas
    comedy comedies western westerns musical musicals documentary documentaries romance
    romances fantasy fantasies mystery mysteries adventure adventures animation noir biography
    biographies biopic biopics horror epic classic sequel
    """.split()
)
#: Words that end a noun phrase (the phrase's head is the word before).
STOPS = frozenset(
    """
    about with that which who whom whose where when while from in on at of for by to into
    like as and or but so than set starring featuring directed made based both also similar
    through during after before between among against without within is are was were has
    have had its his her their it they this these those
    """.split()
)
_WORD = re.compile(r"[^\W_]+|[^\w\s]")
_TOKEN = re.compile(r"[^\W_]+")
# A ticked movie's keywords too: without them the v16en/v17en/v18en reader (who saw only the
# first four) read every "a theme shared with <ticked title>" as false.
_TICKED = ("title", "genres", "director", "cast", "keywords")
MEASURES = (
    "false_noun_phrase",
    "appositive",
    "ends_mid_clause",
    "words_17_or_more",
    "template_shown",
    "checker_rejected",
    "model_error",
    "fits_current_grammar",
)


def noun_phrases(text: str) -> list[tuple[str, str, str]]:
    """``(kind, phrase, head)`` for each article after a copula (``copula``) or a comma
    (``appositive``) in ``text``.

    >>> noun_phrases("Jennifer Aniston, a Christianity fantasy star, stars in it.")
    [('appositive', 'Christianity fantasy star', 'star')]
    >>> noun_phrases("Jurassic Park is a theme park set on an island.")
    [('copula', 'theme park', 'park')]
    >>> noun_phrases("It is a Sci-Fi film about a man, like Heat.")
    [('copula', 'Sci - Fi film', 'film')]
    """
    tokens = _WORD.findall(text)
    found = []
    for i, token in enumerate(tokens[:-1]):
        if tokens[i + 1].casefold() not in ARTICLES:
            continue
        kind = "copula" if token.casefold() in COPULAS else "appositive" if token == "," else ""
        if not kind:
            continue
        words: list[str] = []
        for word in tokens[i + 2 :]:
            folded = word.casefold()
            if word == "-" and words:
                words.append(word)
                continue
            if not word.isalnum() or folded in STOPS or len(words) >= 5:
                break
            verb = folded.endswith(("ing", "ed")) and folded not in FILM_NOUNS
            if verb and words and words[-1] != "-":  # "space-themed" goes on
                break
            words.append(word)
        while words and words[-1] == "-":
            words.pop()
        if words:
            found.append((kind, " ".join(words), words[-1]))
    return found


def false_noun_phrase(text: str) -> bool:
    """Whether ``text`` has a copula's or appositive's noun phrase whose head is no film."""
    return any(head.casefold() not in FILM_NOUNS for _, _, head in noun_phrases(text))


def _raw(row: dict[str, Any]) -> str:
    from cinerec.llm.schemas import ReasonOut, parse_reply

    try:
        return parse_reply(row["raw_text"] or "", ReasonOut).reason
    except Exception:  # noqa: BLE001 - an unparsable reply has no text to read
        return ""


def _runs(
    specs: list[str], language: str = "en"
) -> dict[str, dict[tuple[int, int], dict[str, Any]]]:
    runs: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
        runs[name] = {
            (r["page"], r["movie_id"]): r
            for r in rows
            if r.get("type") == "reason" and r.get("language") == language
        }
    if len(runs) != 2:
        raise SystemExit("give exactly two --run NAME=PATH")
    return runs


def _measures(rows: list[dict[str, Any]], catalog: dict[int, Any]) -> list[dict[str, Any]]:
    from benchmarks.words import _score, _shown
    from cinerec.llm.facts import FactCatalog
    from cinerec.llm.grounding import dangling_end
    from cinerec.llm.reasons import card_schema

    _shown(rows, catalog)  # each row's evidence (the checker reads it), as the report does
    facts = FactCatalog(list(catalog.values()))
    out = []
    for row in rows:
        raw = _raw(row)
        history = [catalog[i] for i in row["history"]]
        schema = card_schema("en", row["evidence"], history)
        scored = _score(raw, row, catalog, facts) or {"false_any": []}
        phrases = noun_phrases(raw)
        out.append(
            {
                "raw": raw,
                "text": raw,
                "false_noun_phrase": false_noun_phrase(raw),
                "appositive": any(kind == "appositive" for kind, _, _ in phrases),
                "ends_mid_clause": bool(raw) and dangling_end(raw),
                "words_17_or_more": len(_TOKEN.findall(raw)) >= 17,
                "template_shown": bool(row.get("template")),
                "model_error": bool(row.get("fallback")),
                "fits_current_grammar": bool(
                    re.fullmatch(schema["properties"]["reason"]["pattern"], raw)
                ),
                "checker_rejected": bool(scored["false_any"]),
                "rejected": scored["false_any"],
                "phrases": phrases,
            }
        )
    return out


def compare(args: argparse.Namespace) -> None:
    from benchmarks.words_blind_pairs import markdown, summarize
    from cinerec.data.catalog import load_catalog
    from cinerec.data.paths import resolve_data_dir

    runs = _runs(args.run)
    ids = sorted(set.intersection(*(set(rows) for rows in runs.values())))
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    rows = []
    for name, run in runs.items():
        for (page, movie_id), scored in zip(
            ids, _measures([dict(run[i]) for i in ids], catalog), strict=True
        ):
            rows.append({"run": name, "sample_id": f"{page}:{movie_id}", **scored})
    summary = summarize(rows, MEASURES)
    examples = [
        {k: r[k] for k in ("run", "sample_id", "raw", "phrases", "rejected")}
        for r in rows
        if r["false_noun_phrase"] or r["checker_rejected"]
    ]
    record = provenance(["benchmarks/copula_claims.py", *sys.argv[1:]])
    out = Path(__file__).resolve().parent / "results" / args.out
    result = {"provenance": record, **summary, "examples": examples}
    out.with_name(out.name + ".json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    lines = [
        "English reasons of two runs on the same (page, movie) ids, raw (the model's reply): "
        "counts with 95 % Wilson intervals, discordant pairs with an exact sign test "
        "(`text` below: the raw text).\n",
        markdown(summary, MEASURES, reader="the measures"),
        "Raw reasons with a false noun phrase or a claim the checker rejects:\n",
        *(f"- {e['run']} {e['sample_id']}: {e['raw']} {e['rejected'] or ''}" for e in examples),
        "",
        "Raw reasons the card's grammar, as the code now builds it, refuses (words; flags):\n",
        *(
            f"- {r['run']} {r['sample_id']}: {r['raw']} ({len(_TOKEN.findall(r['raw']))}; "
            + ", ".join(m for m in MEASURES[:4] if r[m])
            + ")"
            for r in rows
            if not r["fits_current_grammar"]
        ),
    ]
    text = markdown_header(record) + "\n" + "\n".join(line.rstrip() for line in lines) + "\n"
    out.with_name(out.name + ".md").write_text(text, encoding="utf-8")
    print(text)


def _facts(movie: Any) -> dict[str, Any]:
    return {
        "title": movie.title,
        "year": movie.year,
        "genres": list(movie.genres),
        "director": movie.director,
        "cast": list(movie.cast[:5]),
        "keywords": list(movie.keywords),
        "overview": movie.overview,
    }


def blind(args: argparse.Namespace) -> None:
    from cinerec.data.catalog import load_catalog
    from cinerec.data.paths import resolve_data_dir

    runs = _runs(args.run, args.language)
    (a, rows_a), (b, rows_b) = runs.items()
    ids = sorted(set(rows_a) & set(rows_b))
    differ = [i for i in ids if _raw(rows_a[i]) != _raw(rows_b[i])]
    rng = np.random.default_rng(args.seed)
    drawn = [differ[k] for k in sorted(rng.permutation(len(differ))[: args.limit])]
    catalog = {m.movie_id: m for m in load_catalog(resolve_data_dir())}
    rows, key = [], {}
    for page, movie_id in drawn:
        for name, run in runs.items():
            row = run[(page, movie_id)]
            blind_key = f"k{rng.integers(16**8):08x}"
            while blind_key in key:
                blind_key = f"k{rng.integers(16**8):08x}"
            key[blind_key] = name
            ticked = [catalog[i] for i in row["history"]]
            rows.append(
                {
                    "sample_id": f"{page}:{movie_id}",
                    "key": blind_key,
                    "text": _raw(row),
                    "taste": row["taste"],
                    "card": _facts(catalog[movie_id]),
                    "ticked": [
                        {k: v for k, v in _facts(m).items() if k in _TICKED} for m in ticked
                    ],
                }
            )
    order = rng.permutation(len(rows))
    out = Path(args.out)
    out.write_text(
        "".join(json.dumps(rows[i], ensure_ascii=False) + "\n" for i in order), encoding="utf-8"
    )
    record = provenance(["benchmarks/copula_claims.py", *sys.argv[1:]])
    info = {
        "provenance": record,
        "ids_in_both": len(ids),
        "ids_with_the_same_text": len(ids) - len(differ),
        "ids_drawn": len(drawn),
        "key": key,
    }
    out.with_name(out.stem + "_key.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    same = len(ids) - len(differ)
    print(f"{len(ids)} ids in both runs, {same} with the same text; drew {len(drawn)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("compare", "blind"):
        p = sub.add_parser(name)
        p.add_argument("--run", action="append", required=True, help="NAME=rows.jsonl, twice")
    sub.choices["compare"].add_argument("--out", required=True, help="results/<out>.json/.md")
    sub.choices["blind"].add_argument("--out", required=True, help="the blind file (jsonl)")
    sub.choices["blind"].add_argument("--seed", type=int, default=21)
    sub.choices["blind"].add_argument("--limit", type=int, default=50)
    sub.choices["blind"].add_argument("--language", default="en", help="the reasons read: en or ko")
    args = parser.parse_args()
    compare(args) if args.command == "compare" else blind(args)


if __name__ == "__main__":
    main()
