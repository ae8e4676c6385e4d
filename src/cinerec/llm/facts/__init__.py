"""A fact checker for generated text, separate from the text it checks.

It extracts the factual claims of a reason, persona, chat answer or post line (genre
attributions, people and their roles, years, watched movies it cites, movie titles, arguing
against the card, gendered pronouns, non-taste tags) with its own English and Korean lexicons
(:mod:`cinerec.llm.facts.claims`), and checks each against catalog records
(:mod:`cinerec.llm.facts.check`). It shares no code with :mod:`cinerec.llm.grounding`: the
product's repairs are judged by it, and the product calls it to drop a false sentence.
"""

from cinerec.llm.facts.check import (
    FACT_KINDS,
    Checked,
    FactCatalog,
    check_text,
    false_claims,
    false_facts,
    false_sentences,
    unverified_people,
)
from cinerec.llm.facts.claims import Claim, TitleIndex, extract_claims, split_sentences

__all__ = [
    "FACT_KINDS",
    "Checked",
    "Claim",
    "FactCatalog",
    "TitleIndex",
    "check_text",
    "extract_claims",
    "false_claims",
    "false_facts",
    "false_sentences",
    "split_sentences",
    "unverified_people",
]
