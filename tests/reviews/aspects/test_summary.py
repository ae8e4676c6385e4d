from __future__ import annotations

from cinerec.reviews.aspects.classifier import AspectClassifier, AspectClassifierConfig
from cinerec.reviews.aspects.summary import summarize_movie
from cinerec.reviews.aspects.weak_labels import MOVIE_LEXICON, weak_label_matrix
from cinerec.reviews.sentiment import TfidfSentimentConfig, TfidfSentimentModel

TRAIN = [
    "The acting was superb.",
    "The acting was awful.",
    "A superb score and music.",
    "The music was awful.",
    "The ending was superb.",
    "The ending was awful.",
    "Superb film.",
    "Awful film.",
] * 4
LABELS = [1, 0, 1, 0, 1, 0, 1, 0] * 4


def test_summary_counts_mentions_and_quotes_with_highlights() -> None:
    cfg = TfidfSentimentConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)
    sentiment = TfidfSentimentModel(cfg).fit(TRAIN, LABELS)
    aspects = AspectClassifier(
        AspectClassifierConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1)
    ).fit(TRAIN, weak_label_matrix(TRAIN, MOVIE_LEXICON), MOVIE_LEXICON.aspects)
    reviews = [
        "I saw it twice. The acting was superb. The ending was awful.",
        "Superb acting all round.",
        "The ending was awful, sadly.",
    ]
    summaries = {
        s.aspect: s for s in summarize_movie(reviews, aspect_model=aspects, sentiment=sentiment)
    }
    acting, ending = summaries["acting"], summaries["ending"]
    assert acting.mentions == 2 and acting.positive_share == 1.0
    assert ending.mentions == 2 and ending.positive_share == 0.0
    quote = acting.quotes[0]
    assert "acting" in quote.text.lower() and quote.p_positive > 0.5
    assert [quote.text[h.start : h.end].lower() for h in quote.highlights][0] == "superb"
    assert ending.quotes[0].text[ending.quotes[0].highlights[0].start :].startswith("awful")
    assert len({q.review_index for q in acting.quotes}) == len(acting.quotes)
