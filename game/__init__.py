"""Lumen: a training game for fluoroscopy-guided procedures, scored on radiation dose."""

__version__ = "0.1.0"
