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
    "feedback_like": {"en": "More like this", "ko": "이런 영화 더 보기"},
    "feedback_dislike": {"en": "Not for me", "ko": "내 취향 아님"},
    "feedback_liked": {
        "en": "More like this: the next page leans this way.",
        "ko": "이런 영화 더 보기: 다음 페이지에 반영됩니다.",
    },
    "feedback_disliked": {
        "en": "Not for me: the next page shows less like it.",
        "ko": "내 취향 아님: 다음 페이지에서 비슷한 영화를 줄입니다.",
    },
    "feedback_undo": {"en": "Undo", "ko": "취소"},
    "recommendations": {"en": "Recommendations", "ko": "추천 영화"},
    "working": {
        "en": "Ranking candidates…",
        "ko": "후보 영화의 순위를 매기는 중…",
    },
    "writing_reason": {
        "en": "The language model is writing why this fits you…",
        "ko": "언어 모델이 추천 이유를 쓰는 중…",
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
        "en": "Written from your genres: the language model's text was unavailable or did not "
        "pass the fact check.",
        "ko": "언어 모델의 글을 받지 못했거나 사실 확인을 통과하지 못해 장르로 작성했습니다.",
    },
    "past_runs": {"en": "Earlier recommendations", "ko": "이전 추천"},
    "page": {"en": "page", "ko": "페이지"},
    "more_like_this": {"en": "Details", "ko": "자세히"},
    "back": {"en": "Back", "ko": "돌아가기"},
    "request_failed": {
        "en": "That did not work; nothing on this page was changed.",
        "ko": "요청이 처리되지 않았습니다. 이 페이지의 내용은 바뀌지 않았습니다.",
    },
    "request_offline": {
        "en": "The server could not be reached; check the connection.",
        "ko": "서버에 연결할 수 없습니다. 연결을 확인해 주세요.",
    },
    "reload": {"en": "Reload the page", "ko": "새로 고침"},
    "new_profile": {"en": "Start a new profile", "ko": "새 프로필 만들기"},
    "recovery_title": {"en": "Your recovery code", "ko": "복구 코드"},
    "recovery_once": {
        "en": "Write it down: it is shown only now. With it you can open this profile in "
        "another browser (the session here then ends).",
        "ko": "지금 한 번만 보여 드립니다. 적어 두시면 다른 브라우저에서 이 프로필을 열 수 "
        "있습니다 (그러면 여기의 세션은 끝납니다).",
    },
    "recovery_new": {"en": "Make a new recovery code", "ko": "새 복구 코드 만들기"},
    "recovery_hint": {
        "en": "Lost your code? A new one replaces it.",
        "ko": "코드를 잃어버렸다면 새로 만들 수 있습니다 (이전 코드는 더 이상 쓸 수 없습니다).",
    },
    "restore_title": {"en": "Open your profile here", "ko": "내 프로필 불러오기"},
    "restore_intro": {
        "en": "Enter the recovery code shown when you made your profile.",
        "ko": "프로필을 만들 때 받은 복구 코드를 입력하세요.",
    },
    "restore_code": {"en": "Recovery code", "ko": "복구 코드"},
    "restore_go": {"en": "Open profile", "ko": "프로필 열기"},
    "restore_link": {"en": "Have a recovery code?", "ko": "복구 코드가 있나요?"},
    "post_need_profile": {
        "en": "Fill in your profile first: writing a post takes the shared model a minute.",
        "ko": "먼저 프로필을 작성해 주세요. 글 하나를 쓰는 데 공용 모델로 1분쯤 걸립니다.",
    },
    "fill_profile_first": {
        "en": "Fill in your profile to start.",
        "ko": "먼저 프로필을 입력하세요.",
    },
    "error": {"en": "Something went wrong", "ko": "문제가 발생했습니다"},
    "no_results": {"en": "No movies found.", "ko": "검색 결과가 없습니다."},
    "model": {"en": "Model", "ko": "모델"},
    "more_like_this_title": {"en": "More like this", "ko": "비슷한 영화"},
    "more_like_this_pending": {
        "en": "Similar movies are being prepared (the catalog is being indexed); reload soon.",
        "ko": "비슷한 영화를 준비하는 중입니다(카탈로그 색인 중). 잠시 후 새로고침하세요.",
    },
    # --- review summaries (keys start with reviews_ / aspect_) ---
    "reviews_title": {"en": "What reviewers say", "ko": "리뷰 요약"},
    "reviews_overall": {
        "en": "{n} IMDb reviews, {share}% positive",
        "ko": "IMDb 리뷰 {n}개, 긍정 {share}%",
    },
    "reviews_none": {
        "en": "No reviews of this movie are at hand yet.",
        "ko": "아직 이 영화의 리뷰가 없습니다.",
    },
    "reviews_mentions": {"en": "{n} reviews discuss it", "ko": "리뷰 {n}개에서 언급"},
    "reviews_positive": {"en": "{share}% positive", "ko": "긍정 {share}%"},
    "reviews_note": {
        "en": "Aspects and highlighted words come from cinerec's review classifiers.",
        "ko": "측면과 강조된 단어는 cinerec의 리뷰 분류 모델이 찾았습니다.",
    },
    "aspect_story": {"en": "story", "ko": "스토리"},
    "aspect_acting": {"en": "acting", "ko": "연기"},
    "aspect_directing": {"en": "directing", "ko": "연출"},
    "aspect_visuals": {"en": "visuals", "ko": "영상미"},
    "aspect_music": {"en": "music", "ko": "음악"},
    "aspect_pacing": {"en": "pacing", "ko": "전개 속도"},
    "aspect_ending": {"en": "ending", "ko": "결말"},
    "aspect_emotion": {"en": "emotion", "ko": "감정"},
    "verdict_praised": {"en": "praised", "ko": "호평"},
    "verdict_criticised": {"en": "criticised", "ko": "혹평"},
    "verdict_mixed": {"en": "mixed", "ko": "엇갈림"},
    "nav_home": {"en": "Recommendations", "ko": "추천"},
    "nav_chat": {"en": "Chat", "ko": "채팅"},
    "nav_posts": {"en": "Curated posts", "ko": "큐레이션 포스트"},
    # --- chat strings (keys start with chat_) ---
    "chat_title": {"en": "Ask about movies", "ko": "영화에 대해 물어보기"},
    "chat_intro": {
        "en": "Ask about directors, cast, years or genres, or ask for something to watch: "
        "“other films by the director of Memento?”, “something like Inception but lighter”.",
        "ko": "감독, 출연 배우, 개봉 연도, 장르를 묻거나 볼 영화를 추천받으세요: "
        "“메멘토 감독의 다른 영화는?”, “인셉션 같은데 더 가벼운 영화”.",
    },
    "chat_label": {"en": "Your question", "ko": "질문"},
    "chat_placeholder": {
        "en": "e.g. Who directed Heat (1995)?",
        "ko": "예: Heat (1995)의 감독은 누구인가요?",
    },
    "chat_send": {"en": "Ask", "ko": "보내기"},
    "chat_new": {"en": "New conversation", "ko": "새 대화"},
    "chat_conversations": {"en": "Conversations", "ko": "대화 목록"},
    "chat_no_conversations": {"en": "No conversations yet.", "ko": "아직 대화가 없습니다."},
    "chat_you": {"en": "You", "ko": "나"},
    "chat_assistant": {"en": "cinerec", "ko": "cinerec"},
    "chat_thinking": {"en": "Looking it up…", "ko": "찾아보는 중…"},
    "chat_error": {
        "en": "The answer could not be loaded; please try again.",
        "ko": "답변을 불러오지 못했습니다. 다시 시도해 주세요.",
    },
    "chat_need_profile": {
        "en": "Fill in your profile first; the chat uses your taste and watched movies.",
        "ko": "먼저 프로필을 입력하세요. 채팅은 취향과 본 영화를 참고합니다.",
    },
    "chat_flag_template": {
        "en": "Written from the catalog's facts: the model's wording did not pass the checks.",
        "ko": "카탈로그 정보로 작성한 답변입니다: 모델의 문장이 검사를 통과하지 못했습니다.",
    },
    "chat_flag_fallback": {
        "en": "The language model was unavailable: these are the catalog's facts.",
        "ko": "언어 모델을 사용할 수 없어 카탈로그 정보를 보여드립니다.",
    },
    "chat_flag_removed": {
        "en": "A sentence the catalog facts do not support (a movie or person outside them) "
        "was removed.",
        "ko": "카탈로그 정보로 뒷받침되지 않는 문장(다른 영화나 인물 언급)을 지웠습니다.",
    },
    "chat_flag_cut": {
        "en": "The answer was cut short.",
        "ko": "답변이 중간에 끊겼습니다.",
    },
    "chat_note": {
        "en": "Answers use only catalog facts; ↗ links to the movie cited.",
        "ko": "답변은 카탈로그 정보만 사용합니다. ↗는 인용한 영화로 연결됩니다.",
    },
    # --- end chat strings ---
    # --- posts strings (keys start with post_) ---
    "post_title": {"en": "Curated posts", "ko": "큐레이션 포스트"},
    "post_intro": {
        "en": "Give a theme: the recommender picks well-known, well-liked movies for it and the "
        "language model writes a three-line caption and a one-liner per movie.",
        "ko": "테마를 입력하면 추천 모델이 잘 알려지고 평이 좋은 영화를 고르고, 언어 모델이 "
        "세 줄 캡션과 영화별 한 줄 평을 씁니다.",
    },
    "post_theme": {"en": "Theme", "ko": "테마"},
    "post_theme_hint": {"en": "e.g. rainy day", "ko": "예: 비 오는 날"},
    "post_count": {"en": "Movies", "ko": "영화 수"},
    "post_language": {"en": "Post language", "ko": "포스트 언어"},
    "post_language_auto": {"en": "Same as the theme", "ko": "테마와 같은 언어"},
    "post_generate": {"en": "Write the post", "ko": "포스트 만들기"},
    "post_working": {
        "en": "Writing… the language model is picking movies and writing (this can take a minute).",
        "ko": "언어 모델이 영화를 고르고 글을 쓰는 중입니다… 1분 정도 걸릴 수 있습니다.",
    },
    "post_caption": {"en": "Caption", "ko": "캡션"},
    "post_cards": {"en": "Cards", "ko": "카드"},
    "post_download": {"en": "Download PNG", "ko": "PNG 내려받기"},
    "post_failed": {
        "en": "The model could not write a valid post, so nothing was published. What went wrong:",
        "ko": "언어 모델이 올바른 포스트를 쓰지 못해 아무것도 게시하지 않았습니다. 문제:",
    },
    "post_candidates": {"en": "Movies that fit the theme", "ko": "테마에 맞는 영화"},
    "post_fallback_note": {
        "en": "Some lines are plain fallbacks (the synopsis or a template): the model's were "
        "unusable or alike.",
        "ko": "일부 문장은 줄거리나 기본 문구로 대신했습니다: 모델의 문장이 부적절하거나 "
        "비슷했습니다.",
    },
    "post_another": {"en": "Another theme", "ko": "다른 테마"},
    # --- end posts strings ---
}


def translator(language: str) -> Callable[[str], str]:
    """A ``t(key)`` function for one language; unknown keys come back as the key itself."""
    lang = language if language in LANGUAGES else "en"

    def t(key: str) -> str:
        entry = STRINGS.get(key)
        return entry.get(lang, entry["en"]) if entry else key

    return t
