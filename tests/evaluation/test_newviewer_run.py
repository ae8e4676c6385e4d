"""The Yes/No mix of the newviewer run: it re-orders the ranker's top only, and a fallback or
a zero weight leaves the order alone."""

from __future__ import annotations

import numpy as np
import pytest

from cinerec.evaluation.newviewer_run import _with_yesno


def test_yes_no_reorders_the_top_and_keeps_it_above_the_rest() -> None:
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    top = np.array([0, 1, 2])
    out = _with_yesno(scores, top, np.array([-3.0, 0.0, 9.0]), weight=2.0)
    assert np.argmax(out) == 2
    assert out[top].min() > out[[3, 4]].max()
    assert out[3] == 2.0 and out[4] == 1.0


def test_a_fallback_or_zero_weight_changes_nothing() -> None:
    scores = np.array([3.0, 2.0, 1.0])
    top = np.array([0, 1])
    assert _with_yesno(scores, top, None, 1.0) is scores
    assert np.array_equal(_with_yesno(scores, top, np.array([0.0, 5.0]), 0.0), scores)


def _arrays(models: dict[str, float]) -> dict[str, np.ndarray]:
    """Per-user NDCG@10 of each model on every newviewer set: a constant ``value`` over ten
    users, with a little spread so the bootstrap has something to resample."""
    from cinerec.evaluation.newviewer import NEWVIEWER_KS, set_name
    from cinerec.ranking.statements import LANGUAGES
    from cinerec.ranking.viewers import DRAWS

    spread = np.linspace(-0.01, 0.01, 10)
    return {
        f"{m}/{set_name(k, d, lang)}/ndcg@10": value + spread
        for m, value in models.items()
        for k in NEWVIEWER_KS
        for d in DRAWS
        for lang in LANGUAGES
    }


def test_the_statement_model_is_picked_on_validation_and_reported_on_test() -> None:
    from cinerec.evaluation.newviewer_run import NewViewerOptions, check_targets

    arrays = _arrays({"popularity": 0.1, "ease": 0.2, "ltr": 0.3, "page-genre": 0.5})
    options = NewViewerOptions(retrievers=("popularity", "ease"), resamples=50)
    # page-genre is best on the test users, ltr on the validation users: ltr is reported
    targets = check_targets(arrays, options, {"ltr": 0.4, "page-genre": 0.2})
    k3 = targets["k=3 popular: statement model >= 2.0x popularity"]
    assert k3["model"] == "ltr" and k3["picked_on"] == "validation"
    assert abs(k3["ratio"]["mean"] - 3.0) < 1e-6
    k10 = targets["k=10 popular: >= 1.2x best retriever on ticks (ease)"]
    assert k10["model"] == "ltr" and abs(k10["ratio"]["mean"] - 1.5) < 1e-6
    # without validation scores (older runs) the pick is the best on test, and says so
    old = check_targets(arrays, options)
    k3 = old["k=3 popular: statement model >= 2.0x popularity"]
    assert k3["model"] == "page-genre" and k3["picked_on"] == "test"


def test_what_the_language_model_adds_is_checked_against_plain_ltr() -> None:
    from cinerec.evaluation.newviewer import NEWVIEWER_KS, set_name
    from cinerec.evaluation.newviewer_run import YESNO_K, NewViewerOptions, check_targets

    arrays = _arrays({"popularity": 0.1, "ease": 0.2, "ltr": 0.4})
    spread = np.linspace(-0.01, 0.01, 10)
    for lang, model in (("en", 0.5), ("ko", 0.41)):
        key = f"{set_name(YESNO_K, 'popular', lang)}@llm"
        arrays[f"ltr/{key}/ndcg@10"] = 0.4 + spread
        arrays[f"ltr+model/{key}/ndcg@10"] = model + spread
    key = f"{set_name(NEWVIEWER_KS[0], 'popular', 'en')}@llm"
    arrays.setdefault(f"ltr/{key}/ndcg@10", 0.4 + spread)
    arrays[f"ltr+llm/{key}/ndcg@10"] = 0.44 + spread
    options = NewViewerOptions(retrievers=("popularity", "ease"), resamples=50)
    targets = check_targets(arrays, options)
    label = f"k={YESNO_K} popular {{}}: the model (taste + Yes/No) adds >= +5% (ltr+model vs ltr)"
    en, ko = targets[label.format("en")], targets[label.format("ko")]
    assert abs(en["ratio"]["mean"] - 1.25) < 1e-6 and en["met"] and en["users"] == 10
    assert abs(ko["ratio"]["mean"] - 1.025) < 1e-6 and not ko["met"]
    assert en["paired_difference"]["mean"] > 0.09
    k = NEWVIEWER_KS[0]
    llm = targets[f"k={k} popular en: language model adds >= +5% (ltr+llm vs ltr)"]
    assert abs(llm["ratio"]["mean"] - 1.1) < 1e-6 and llm["met"]


def test_a_validation_pick_must_have_been_scored_on_test() -> None:
    import pytest

    from cinerec.evaluation.newviewer_run import pick_on_validation

    arrays = _arrays({"ltr": 0.3, "page-genre": 0.2})
    # statement-sim was best on validation but has no test rows: it cannot be the pick
    assert pick_on_validation(arrays, ["ltr", "statement-sim"], {"statement-sim": 0.9}) == "ltr"
    with pytest.raises(ValueError, match="scored"):
        pick_on_validation(arrays, ["statement-sim-e5"], {})


def test_the_ranker_without_the_statement_is_a_baseline_of_the_targets() -> None:
    from cinerec.evaluation.newviewer_run import (
        NO_STATEMENT_RANKER,
        NewViewerOptions,
        check_targets,
    )

    arrays = _arrays({"popularity": 0.1, "ease": 0.2, NO_STATEMENT_RANKER: 0.35, "ltr": 0.4})
    options = NewViewerOptions(retrievers=("popularity", "ease"), resamples=50)
    targets = check_targets(arrays, options, {"ltr": 0.4})
    gain = targets[f"k=3 popular: >= +25% over best without statement ({NO_STATEMENT_RANKER})"]
    assert gain["ratio"]["mean"] == pytest.approx(0.4 / 0.35, rel=1e-3)
    assert not gain["met"]


def test_the_no_statement_ranker_orders_the_retriever_pool_only() -> None:
    from types import SimpleNamespace

    from cinerec.evaluation.newviewer_run import NO_STATEMENT_RANKER, _pipelines
    from cinerec.ranking.features import COLUMNS, Candidates
    from cinerec.ranking.ranker import LearnedRankerConfig

    config = LearnedRankerConfig(retriever_pool=2, prior_pool=5)
    ranker = SimpleNamespace(config=config, score=lambda c: np.arange(len(c.ids), dtype=float))
    cands = Candidates(
        np.array([10, 11, 12, 13]),
        np.zeros((4, len(COLUMNS)), np.float32),
        np.array([0.0, 1.0, 2.0, 3.0]),
        np.array([True, True, True, False]),
    )
    pipes = _pipelines({"ltr": ranker, NO_STATEMENT_RANKER: ranker})
    _, keep = pipes[NO_STATEMENT_RANKER](cands)
    assert keep.tolist() == [True, True, False, False]
    _, keep_all = pipes["ltr"](cands)
    assert keep_all.all()
    _, keep_pools = pipes["ltr-prior-pool"](cands)
    assert keep_pools.tolist() == [True, True, True, False]


def test_the_before_ranker_orders_every_candidate_and_is_no_baseline() -> None:
    from types import SimpleNamespace

    from cinerec.evaluation.newviewer_run import (
        BEFORE_RANKER,
        NewViewerOptions,
        _pipelines,
        check_targets,
    )
    from cinerec.ranking.features import COLUMNS, Candidates
    from cinerec.ranking.ranker import LearnedRankerConfig

    ranker = SimpleNamespace(
        config=LearnedRankerConfig(), score=lambda c: -np.arange(len(c.ids), dtype=float)
    )
    cands = Candidates(np.array([10, 11, 12]), np.zeros((3, len(COLUMNS)), np.float32), np.zeros(3))
    scores, keep = _pipelines({"ltr": ranker, BEFORE_RANKER: ranker})[BEFORE_RANKER](cands)
    assert keep.all() and scores.tolist() == [0.0, -1.0, -2.0]
    arrays = _arrays({"popularity": 0.1, "ease": 0.2, BEFORE_RANKER: 0.9, "ltr": 0.4})
    options = NewViewerOptions(retrievers=("popularity", "ease"), resamples=50)
    targets = check_targets(arrays, options, {"ltr": 0.4, BEFORE_RANKER: 0.9})
    assert all(t.get("model", "ltr") == "ltr" for t in targets.values())
    assert any("(ease)" in name for name in targets)
