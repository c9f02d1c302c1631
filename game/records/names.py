"""Validation of what people type: trainee names, class names, class codes and level ids.

Every function takes untrusted input and returns its canonical form or raises :class:`InvalidInputError` with a
message that quotes the input safely (escaped, truncated).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from game.records.errors import InvalidInputError

TRAINEE_MAX_CHARS = 40
CLASS_NAME_MAX_CHARS = 60
LEVEL_ID_MAX_CHARS = 64
CLASS_CODE_CHARS = 6
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: nothing to confuse on a projector
CLASS_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")
LEVEL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # as in the level schema

_TRAINEE_PUNCTUATION = frozenset(" .-_'")
_CLASS_PUNCTUATION = frozenset(" .-_'()/:#,&+")
_WHITESPACE_RUN = re.compile(r" {2,}")


def trainee_name(raw: object) -> str:
    """A trainee's name: trimmed, NFC, 1-40 characters of letters, digits, space and . - _ '."""
    return _name(raw, "trainee name", TRAINEE_MAX_CHARS, _TRAINEE_PUNCTUATION)


def class_name(raw: object) -> str:
    """A class session's name: like a trainee name, up to 60 characters, also ( ) / : # , & +."""
    return _name(raw, "class name", CLASS_NAME_MAX_CHARS, _CLASS_PUNCTUATION)


def name_key(name: str) -> str:
    """The key under which a name is unique: case does not make a different trainee."""
    return unicodedata.normalize("NFC", name.casefold())


def class_code(raw: object) -> str:
    """A class code as typed (any case, surrounding spaces) in its canonical upper-case form."""
    if not isinstance(raw, str):
        raise InvalidInputError(f"invalid class code: expected text, got {type(raw).__name__}")
    code = raw.strip().upper()
    if not CLASS_CODE.match(code):
        raise InvalidInputError(
            f"invalid class code {_quote(raw)}: a code is {CLASS_CODE_CHARS} characters from {CODE_ALPHABET}"
        )
    return code


def level_id(raw: object) -> str:
    """A level id as the level schema allows it: lower-case letters, digits, - and _, at most 64."""
    if not isinstance(raw, str) or not raw or len(raw) > LEVEL_ID_MAX_CHARS or not LEVEL_ID.match(raw):
        raise InvalidInputError(
            f"invalid level id {_quote(raw)}: lower-case letters, digits, - and _, at most {LEVEL_ID_MAX_CHARS}"
        )
    return raw


def new_class_code() -> str:
    """A random class code (32^6, about 10^9 possibilities); the store retries on the rare collision."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CLASS_CODE_CHARS))


def _name(raw: object, what: str, max_chars: int, punctuation: frozenset[str]) -> str:
    if not isinstance(raw, str):
        raise InvalidInputError(f"invalid {what}: expected text, got {type(raw).__name__}")
    if len(raw) > 4 * max_chars:  # refuse huge input before normalising it
        raise InvalidInputError(f"invalid {what} {_quote(raw)}: longer than {max_chars} characters")
    name = _WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFC", raw).strip())
    if not name:
        raise InvalidInputError(f"invalid {what}: it is empty")
    if len(name) > max_chars:
        raise InvalidInputError(f"invalid {what} {_quote(raw)}: longer than {max_chars} characters")
    if not _is_word_char(name[0], marks=False):
        raise InvalidInputError(f"invalid {what} {_quote(raw)}: it must start with a letter or a digit")
    bad = [c for c in name if not (_is_word_char(c, marks=True) or c in punctuation)]
    if bad:
        allowed = "letters, digits, spaces and " + " ".join(sorted(punctuation - {" "}))
        raise InvalidInputError(f"invalid {what} {_quote(raw)}: {_quote(bad[0])} is not allowed (only {allowed})")
    return name


def _is_word_char(char: str, *, marks: bool) -> bool:
    """Letters and decimal digits of any script; combining marks only after the first character."""
    category = unicodedata.category(char)
    return category[0] == "L" or category == "Nd" or (marks and category in ("Mn", "Mc"))


def _quote(raw: object) -> str:
    """Input quoted for a message: escaped (no control or bidi characters reach a terminal) and truncated."""
    text = raw if isinstance(raw, str) else str(raw)
    return repr(text[:48] + ("..." if len(text) > 48 else ""))
