"""Seeded, headless benchmarks behind ``lumen bench``: figures, not tests (run them on a quiet machine)."""
