"""Checks the benchmarks run on model output, written apart from the product's own checks."""
