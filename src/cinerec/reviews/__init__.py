"""Review models: sentiment, aspects, active learning, the review workflow and its artifacts.

``sentiment/`` (TF-IDF, heads on frozen vectors, ONNX serving, tuning), ``aspects/`` (weak
labels, classifier, polarity, summaries), :mod:`.transformer` (the fine-tuned MiniLM),
:mod:`.highlights` (evidence spans), :mod:`.active` (which reviews to label next),
:mod:`.workflow` (train, select, import, audit), :mod:`.persist` (saved models) and
:mod:`.metrics` (classification metrics with intervals).
"""
