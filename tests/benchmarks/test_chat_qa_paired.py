"""The paired comparison of two chat benchmark runs counts changes each way, on shared questions."""

from __future__ import annotations

from benchmarks.chat_qa_paired import add_labels, compare, paired_report


def test_changes_are_counted_each_way_and_the_difference_has_an_interval() -> None:
    before = [True] * 10 + [False] * 10
    after = [True] * 8 + [False] * 2 + [True] * 9 + [False]
    r = compare(before, after)
    assert (r["before"]["k"], r["after"]["k"], r["gained"], r["lost"]) == (10, 17, 9, 2)
    assert r["difference"] == 0.35
    assert r["difference_ci95"][0] > 0 and r["mcnemar_p"] < 0.1
    same = compare(before, before)
    assert same["mcnemar_p"] == 1.0 and same["difference_ci95"] == [0.0, 0.0]


def test_only_questions_both_runs_answered_are_paired() -> None:
    def row(qid: int, raw: bool) -> dict:
        return {"qid": qid, "kind": "compare", "language": "en", "correct_raw": raw,
                "correct_shown": True, "fallback": False, "model_written": True}  # fmt: skip

    before = {1: row(1, False), 2: row(2, True), 3: row(3, False)}
    after = {1: row(1, True), 2: row(2, True)}
    cells = paired_report(before, after)
    assert set(cells) == {"compare/en", "compare/all", "all/en", "all/all"}
    raw = cells["all/all"]["correct_raw"]
    assert (raw["before"]["n"], raw["before"]["k"], raw["after"]["k"]) == (2, 1, 2)


def test_a_reading_of_both_runs_becomes_its_own_measure() -> None:
    def row(qid: int) -> dict:
        return {"qid": qid, "kind": "compare", "language": "ko", "correct_raw": True,
                "correct_shown": True, "fallback": False, "model_written": True}  # fmt: skip

    before, after = {1: row(1), 2: row(2)}, {1: row(1), 2: row(2)}
    labels = [
        {"tag": "a", "qid": 1, "correct": False},
        {"tag": "a", "qid": 2, "correct": True},
        {"tag": "b", "qid": 1, "correct": True},
    ]
    add_labels(before, labels, "a")
    add_labels(after, labels, "b")
    assert "correct_raw_read" not in paired_report(before, after)["all/all"]  # b lacks qid 2
    add_labels(after, [{"tag": "b", "qid": 2, "correct": True}], "b")
    read = paired_report(before, after)["all/all"]["correct_raw_read"]
    assert (read["before"]["k"], read["after"]["k"], read["gained"]) == (1, 2, 1)
