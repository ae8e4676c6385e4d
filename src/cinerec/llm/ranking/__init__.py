"""The model as a scorer of candidates: :mod:`.yesno` and :mod:`.verbalizer` (probability
scores, :mod:`.scoring` their shared result), :mod:`.score_mix` (mixing a score into the
retriever's order) and :mod:`.rerank` (the shapes the page's ranking steps share)."""
