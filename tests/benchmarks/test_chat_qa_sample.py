"""The hand-read chat sample is drawn by seed per stratum, and scored against the checker."""

from __future__ import annotations

from benchmarks.chat_qa_sample import KINDS, LANGUAGES, draw_ids, summarize


def _rows() -> list[dict]:
    return [
        {"qid": 100 * li + 10 * ki + j, "language": lang, "kind": kind}
        for li, lang in enumerate(LANGUAGES)
        for ki, kind in enumerate(KINDS)
        for j in range(10)
    ]


def test_the_draw_takes_the_same_ids_per_stratum_whatever_the_row_order() -> None:
    rows = _rows()
    ids = draw_ids(rows, 3, 21)
    assert len(ids) == 3 * len(KINDS) * len(LANGUAGES) == len(set(ids))
    assert ids == draw_ids(list(reversed(rows)), 3, 21)
    assert ids != draw_ids(rows, 3, 22)
    for li in range(len(LANGUAGES)):
        for ki in range(len(KINDS)):
            assert sum(100 * li + 10 * ki <= i < 100 * li + 10 * ki + 10 for i in ids) == 3


def test_checker_recall_and_precision_are_counted_on_the_reader_labels() -> None:
    items = [
        {"qid": 1, "language": "en", "kind": "list", "label": "false", "note": "wrong count"},
        {"qid": 2, "language": "en", "kind": "list", "label": "false", "note": "not his film"},
        {"qid": 3, "language": "ko", "kind": "fact", "label": "true"},
        {"qid": 4, "language": "ko", "kind": "unanswerable", "label": "non_answer"},
    ]
    rows = {
        1: {"false_raw": ["x"], "correct_raw": False},
        2: {"false_raw": [], "correct_raw": True},
        3: {"false_raw": ["y"], "correct_raw": True},
        4: {"false_raw": [], "correct_raw": True},
    }
    s = summarize(items, rows)
    assert (s["false"]["all"]["k"], s["false"]["all"]["n"]) == (2, 4)
    assert s["false"]["en"]["k"] == 2 and s["false"]["ko"]["k"] == 0
    assert s["false"]["unanswerable/ko"]["non_answer"] == 1
    assert (s["checker"]["recall"]["k"], s["checker"]["recall"]["n"]) == (1, 2)
    assert (s["checker"]["precision"]["k"], s["checker"]["precision"]["n"]) == (1, 2)
    assert [m["qid"] for m in s["checker"]["missed"]] == [2]
    assert s["checker"]["false_but_correct_raw"] == 1
