"""Candidate generators. One algorithm per module; ``registry.py`` names them."""
