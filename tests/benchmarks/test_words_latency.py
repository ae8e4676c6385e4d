"""words.py latency: a run's model-written shares count the fallbacks, and say why each fell."""

from __future__ import annotations

from benchmarks.words import _fallback_lines


def _reason(template: bool, why: str = "") -> dict:
    return {
        "movie_id": 1,
        "text": "보신 Heat처럼 범죄 영화예요.",
        "template": template,
        "raw_text": '{"reason": "영화는 \'스릴러\'에 맞아요."}',
        "repairs": [f"evidence template ({why})"] if template else [],
        "error": None,
    }


def test_fallbacks_count_against_the_share_and_are_listed_with_their_cause() -> None:
    row = {
        "page": 3,
        "language": "ko",
        "system_only_reasons": [_reason(True, "nothing left")],
        "first_card_reasons": [_reason(False), _reason(True, "cites no fact of its card")],
    }
    lines = _fallback_lines([row])
    assert "| first | ko | 1 / 2 | 0.50 [0.09, 0.91] |" in lines
    assert "| all | ko | 1 / 3 | 0.33 [0.06, 0.79] |" in lines
    fallbacks = [line for line in lines if line.startswith("- 3 ko 1:")]
    assert len(fallbacks) == 2 and "nothing left" in fallbacks[0]
    assert "'스릴러'" in fallbacks[0]  # the raw reply, to replay
