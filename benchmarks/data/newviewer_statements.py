"""Write the newviewer protocol's taste statements, and the language model's parses of them.

Procedure (documented in benchmarks/results/newviewer/README.md): the user-disjoint split of
:mod:`cinerec.evaluation.newviewer` with seed 42; for each held-out user a statement subset
(30 % of their ratings, at least 5, never a target) is read into facts (liked and disliked
genres against the catalog's base rates, TMDB keywords and people shared by two or more liked
movies, a dominant decade, a mood word for the favourite genre) by
:func:`cinerec.ranking.statements.taste_facts`, then written by templates in English and
Korean (:func:`cinerec.ranking.statements.write_statement`, template choice seeded per user).
No language-model paraphrase: the templates are the whole procedure. The protocol rebuilds the
same statements from the same seed; ``statements_digest`` in every result ties it to this file.

``--parse N`` also runs statement understanding (:func:`cinerec.llm.taste.understand_taste`)
on the first N test users and the first N/2 validation users of ml-latest-small, in both
languages, one thread, and stores the parses in ``newviewer_taste_<model>.json`` (a
:class:`cinerec.llm.taste.TasteCache`), so the benchmark never calls the model again.

    CINEREC_DATA_DIR=... python benchmarks/data/newviewer_statements.py [--parse 60]
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from cinerec.config import Settings
from cinerec.data.catalog import load_catalog
from cinerec.data.movielens import ML_100K, ML_LATEST_SMALL, load_ratings
from cinerec.data.paths import resolve_data_dir
from cinerec.evaluation.newviewer import NewViewerData, newviewer_data, statements_digest

HERE = Path(__file__).parent
SEED = 42


def statements_file(dataset: str) -> Path:
    """Where the statements of ``dataset`` are committed."""
    return HERE / f"newviewer_statements_{dataset}.json"


def taste_file(model: str) -> Path:
    """Where the language model's parses are committed."""
    return HERE / f"newviewer_taste_{model}.json"


def build(dataset: str) -> NewViewerData:
    """The protocol's data for ``dataset`` with the benchmark's seed."""
    data_dir = resolve_data_dir(None)
    frame = load_ratings(data_dir, dataset).frame
    return newviewer_data(frame, load_catalog(data_dir, dataset), dataset=dataset, seed=SEED)


def write_statements(data: NewViewerData) -> Path:
    """The statements file of one data set."""
    viewers = [
        {"user_id": v.user_id, "part": part, "facts": v.facts.as_dict(), **v.statements}
        for part, group in (("validation", data.validation), ("test", data.test))
        for v in group
    ]
    body = {
        "dataset": data.dataset,
        "seed": data.seed,
        "split_digest": data.split_digest,
        "statements_digest": statements_digest(data),
        "generator": "benchmarks/data/newviewer_statements.py (templates, no paraphrase)",
        "viewers": viewers,
    }
    path = statements_file(data.dataset)
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def parse(data: NewViewerData, n: int, model: str) -> Path:
    """Parse the first ``n`` test and ``n // 2`` validation users' statements (cached)."""
    from cinerec.llm.backends.registry import build_backend
    from cinerec.llm.taste import TasteCache

    backend = build_backend(Settings(llm_model=model, llm_threads=1))
    assert backend is not None
    cache = TasteCache(taste_file(model))
    viewers = [*data.test[:n], *data.validation[: n // 2]]
    for done, v in enumerate(viewers, 1):
        for text in v.statements.values():
            cache.get_or_parse(backend, text)
        if done % 5 == 0:
            cache.save()
            logging.info("parsed %d / %d viewers", done, len(viewers))
    cache.save()
    return cache.path or taste_file(model)


def main() -> None:
    """Write both data sets' statements; with ``--parse`` also the model's parses."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse", type=int, default=0)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    args = parser.parse_args()
    for dataset in (ML_LATEST_SMALL, ML_100K):
        data = build(dataset)
        print(write_statements(data))
        if args.parse and dataset == ML_LATEST_SMALL:
            print(parse(data, args.parse, args.model))


if __name__ == "__main__":
    main()
