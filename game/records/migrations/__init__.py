"""Alembic migrations of the records schema; run by :mod:`game.records.migrate`, no alembic.ini needed."""
