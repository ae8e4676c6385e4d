"""The model's part of the chat: :mod:`.prompt` (prompt and memory), :mod:`.grounding`
(checking answers while they stream) and :mod:`.phrase` (rewording a fact-built draft)."""
