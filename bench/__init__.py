"""Benchmarks of support-bridge against a bare aiogram baseline (not part of the test suite)."""
