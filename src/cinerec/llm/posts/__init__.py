"""The model's part of a curated post: :mod:`.compose` (plan, picks and one-liners),
:mod:`.prompts` (the prompts and their example turns) and :mod:`.checks` (checks and repairs)."""
