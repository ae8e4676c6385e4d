"""Offline evaluation: splits, metrics, protocols and reports."""
