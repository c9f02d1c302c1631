"""The game's scenes (one screen each)."""
