"""The errors the records package raises: every one carries a message fit to show a person as is."""

from __future__ import annotations


class RecordError(Exception):
    """Records could not be read or written; ``str()`` names the problem (never a traceback)."""


class InvalidInputError(RecordError):
    """A trainee name, class name, class code, level id or result that is not acceptable."""


class UnknownClassError(RecordError):
    """No class session has this code."""


class ServerUnreachableError(RecordError):
    """The shared database server did not answer."""
