"""Aspect-based review analysis: weak labels from a guideline, aspect and polarity classifiers."""
