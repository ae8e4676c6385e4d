"""Page strings in English and Korean. Templates call ``t("key")``."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "ko")

STRINGS: dict[str, dict[str, str]] = {
    "tagline": {
        "en": "Movies picked by trained recommenders, explained by a language model.",
        "ko": "학습된 추천 모델이 고르고 언어 모델이 설명하는 영화 추천.",
    },
    "profile": {"en": "Your profile", "ko": "내 프로필"},
    "name": {"en": "Name", "ko": "이름"},
    "age": {"en": "Age", "ko": "나이"},
    "gender": {"en": "Gender", "ko": "성별"},
    "female": {"en": "Female", "ko": "여성"},
    "male": {"en": "Male", "ko": "남성"},
    "other": {"en": "Other", "ko": "기타"},
    "unspecified": {"en": "Prefer not to say", "ko": "밝히지 않음"},
    "taste": {"en": "Your taste (optional)", "ko": "취향 (선택)"},
    "taste_hint": {
        "en": "e.g. slow-burn sci-fi, no horror",
        "ko": "예: 느린 전개의 SF, 공포는 빼고",
    },
    "language": {"en": "Language", "ko": "언어"},
    "save_profile": {"en": "Save profile", "ko": "프로필 저장"},
    "watched": {"en": "Movies you have watched", "ko": "본 영화"},
    "search": {"en": "Search the catalog", "ko": "영화 검색"},
    "search_hint": {"en": "Title or year, e.g. Heat 1995", "ko": "제목 또는 연도, 예: Heat 1995"},
    "add": {"en": "Tick", "ko": "추가"},
    "remove": {"en": "Remove", "ko": "삭제"},
    "rating": {"en": "Rating", "ko": "평점"},
    "no_rating": {"en": "no rating", "ko": "평점 없음"},
    "no_watched": {
        "en": "Nothing ticked yet: recommendations will use popularity and your taste.",
        "ko": "아직 고른 영화가 없습니다: 인기도와 취향으로 추천합니다.",
    },
    "persona": {"en": "Your persona", "ko": "나의 페르소나"},
    "recommend": {"en": "Recommend movies", "ko": "영화 추천받기"},
    "more": {"en": "More", "ko": "더 보기"},
    "recommendations": {"en": "Recommendations", "ko": "추천 영화"},
    "working": {
        "en": "Thinking… the language model is ranking and explaining (this can take a while).",
        "ko": "언어 모델이 순위를 매기고 설명하는 중입니다… 잠시 기다려 주세요.",
    },
    "fit": {"en": "Fit", "ko": "적합도"},
    "directed_by": {"en": "Directed by", "ko": "감독"},
    "starring": {"en": "Starring", "ko": "출연"},
    "where_to_watch": {"en": "Where to watch", "ko": "볼 수 있는 곳"},
    "reasons_unavailable": {
        "en": "Reasons unavailable: the language model did not answer in time, "
        "so this is the recommender's own ranking.",
        "ko": "설명을 불러오지 못했습니다: 언어 모델이 응답하지 않아 "
        "추천 모델의 순위를 그대로 보여줍니다.",
    },
    "persona_fallback": {
        "en": "Written from your genres (the language model was unavailable).",
        "ko": "언어 모델을 사용할 수 없어 장르로 작성했습니다.",
    },
    "past_runs": {"en": "Earlier recommendations", "ko": "이전 추천"},
    "page": {"en": "page", "ko": "페이지"},
    "more_like_this": {"en": "Details", "ko": "자세히"},
    "back": {"en": "Back", "ko": "돌아가기"},
    "fill_profile_first": {
        "en": "Fill in your profile to start.",
        "ko": "먼저 프로필을 입력하세요.",
    },
    "error": {"en": "Something went wrong", "ko": "문제가 발생했습니다"},
    "no_results": {"en": "No movies found.", "ko": "검색 결과가 없습니다."},
    "model": {"en": "Model", "ko": "모델"},
}


def translator(language: str) -> Callable[[str], str]:
    """A ``t(key)`` function for one language; unknown keys come back as the key itself."""
    lang = language if language in LANGUAGES else "en"

    def t(key: str) -> str:
        entry = STRINGS.get(key)
        return entry.get(lang, entry["en"]) if entry else key

    return t
