"""The whole procedure as plain Python and numpy: deterministic, headless, never imports pygame."""
