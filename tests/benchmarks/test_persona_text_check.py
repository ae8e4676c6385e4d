"""The independent persona checker and the persona benchmark's scoring: each fails on bad text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import persona_sentences
from benchmarks.checks.persona_text import (
    ends_at_sentence,
    gender_words,
    glued_words,
    pronoun_errors,
    reply_persona,
    tags,
    wilson,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "language", "ends"),
    [
        ("This viewer loves crime dramas.", "en", True),
        ("This viewer loves Heat (1995).", "en", True),
        ("This viewer loves crime dramas which features a", "en", False),
        ("This viewer loves crime dramas,", "en", False),
        ("이 관객은 범죄 영화를 좋아합니다.", "ko", True),
        ("이 관객은 공포 영화는 피하고 싶어 해요.", "ko", True),
        ("이 관객은 범죄 영화를 좋아합니", "ko", False),
        ("이 관객은 범죄 영화를 좋아.", "ko", False),  # a cut word with a full stop after it
        ("", "en", False),
        (None, "ko", False),
    ],
)
def test_ends_at_sentence(text: str | None, language: str, ends: bool) -> None:
    assert ends_at_sentence(text, language) is ends


@pytest.mark.parametrize(
    ("text", "gender", "errors"),
    [
        ("This viewer likes crime. He loves Heat.", "unspecified", ["He"]),
        ("This viewer likes crime. He loves Heat.", "male", []),
        ("This viewer likes crime. She loves her films.", "male", ["She", "her"]),
        ("This viewer likes crime. She loves her films.", "female", []),
        ("This viewer likes hero stories, shepherds and Sherlock.", "unspecified", []),
        ("This viewer likes crime. HeLikes Heat.", "female", ["He"]),  # glued
        ("이 관객은 그 영화를 좋아합니다. 그리고 그런 영화도 봅니다.", "unspecified", []),
        ("이 관객은 범죄 영화를 좋아합니다. 그는 스릴러도 봅니다.", "female", ["그는"]),
        ("이 관객은 범죄 영화를 좋아합니다. 그는반전 스릴러도 봅니다.", None, ["그는"]),
        ("이 관객은 범죄 영화를 좋아합니다. 그녀는 스릴러도 봅니다.", "male", ["그녀는"]),
        ("이 관객은 범죄 영화를 좋아합니다. 그녀는 스릴러도 봅니다.", "female", []),
    ],
)
def test_pronoun_errors(text: str, gender: str | None, errors: list[str]) -> None:
    assert pronoun_errors(text, gender) == errors


def test_gender_words_tags_and_replies() -> None:
    assert gender_words("a 30-year-old woman who likes Iron Man") == ["woman"]
    assert gender_words("a femaleAGER 31 who likes Maleficent and malevolent heroes") == ["female"]
    assert gender_words("a 40-year-old femalewho likes females and womanizers") == ["female"]
    assert gender_words("이 관객은 여성 관객입니다.") == ["여성"]
    assert tags("likes IMAX films [Action, Crime]") == ["IMAX", "[Action, Crime]"]
    assert tags("avoids IMAXlists, likes a climax") == ["IMAX"]
    assert glued_words("TheyEnjoying DiCaprio, McQueen and TheThinRedLine.") == [
        "TheyEnjoying",
        "TheThinRedLine",
    ]
    assert glued_words("이 관객은 수아는수아가의감정을는수아가의감다.") == [
        "수아는수아가의감정을는수아가의감다"
    ]
    assert reply_persona('{"persona": "This viewer likes crime."}') == "This viewer likes crime."
    assert reply_persona('{"persona": "This viewer likes cri') is None  # cut by max_tokens
    assert reply_persona("not json") is None and reply_persona(None) is None
    lo, hi = wilson(100, 100)
    assert hi == pytest.approx(1.0) and 0.95 < lo < 0.97


def _row(**changes: Any) -> dict[str, Any]:
    text = "This viewer likes tense crime dramas. They enjoy thrillers."
    row = {
        "i": 0,
        "language": "en",
        "gender": "unspecified",
        "kind": "ordinary",
        "model": "fake",
        "raw_text": json.dumps({"persona": text}),
        "text": text,
        "fallback": False,
        "finish_reason": "stop",
        "seconds": 1.0,
    }
    return {**row, **changes}


def test_the_benchmark_meets_its_targets_only_on_good_rows() -> None:
    good = persona_sentences.summarise([_row(), _row(i=1)])
    assert all(good["targets"].values())
    assert good["groups"]["all"]["product_changed"]["k"] == 0


@pytest.mark.parametrize(
    ("bad", "target"),
    [
        ({"raw_text": '{"persona": "This viewer likes tense crime dramas. They enjoy'}, "ends"),
        ({"finish_reason": "length"}, "ends"),  # complete JSON, but stopped by max_tokens
        ({"raw_text": None, "fallback": True}, "ends"),  # a timeout or an error
        ({"raw_text": json.dumps({"persona": "This viewer likes crime. He likes Heat."})}, "pro"),
        ({"gender": "male", "raw_text": json.dumps({"persona": "They say she likes it."})}, "pro"),
    ],
)
def test_the_benchmark_fails_on_a_bad_row(bad: dict[str, Any], target: str) -> None:
    summary = persona_sentences.summarise([_row(), _row(i=1, **bad)])
    name = next(t for t in summary["targets"] if t.startswith("raw " + target))
    assert summary["targets"][name] is False
    assert summary["failures"] and summary["failures"][0]["i"] == 1
    md = persona_sentences.markdown({"provenance": {}, **summary}, "test")
    assert "MISSED" in md


def test_the_product_repair_is_counted_apart() -> None:
    summary = persona_sentences.summarise([_row(text="This viewer likes tense crime dramas.")])
    assert summary["groups"]["all"]["product_changed"]["k"] == 1
    assert all(summary["targets"].values())  # the raw reply itself was fine


def test_plans_spread_languages_genders_and_red_team() -> None:
    plans = persona_sentences.plans(100, seed=21)
    assert sum(p["language"] == "ko" for p in plans) == 50
    for language in ("en", "ko"):
        genders = [p["gender"] for p in plans if p["language"] == language]
        assert {g: genders.count(g) for g in set(genders)} == pytest.approx(
            {"unspecified": 17, "female": 17, "male": 16}, abs=1
        )
    assert sum(p["kind"] != "ordinary" for p in plans) == 10


def test_the_checker_imports_nothing_from_the_product() -> None:
    code = (
        "import sys; import benchmarks.checks.persona_text; "
        "print(any(m.startswith('cinerec') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
