"""Find the line of a TOML document that defines a key path such as ``("lesions", 1, "severity_pct")``.

``tomllib`` keeps no positions, so this scans the text for table headers (``[a.b]``, ``[[a]]``) and
``key = value`` lines. It understands what level files use: tables, arrays of tables, dotted keys, inline
tables and multi-line strings and arrays (whose inner lines are skipped). When a path is not found exactly,
the line of its longest known prefix is returned.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def key_lines(text: str) -> dict[tuple, int]:
    """Map every key path defined in ``text`` to its 1-based line number."""
    lines: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    table: tuple = ()
    depth = 0  # open brackets of a multi-line value
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        header = _HEADER.match(line)
        if header:
            names = tuple(_split_dotted(header.group(2)))
            table = _indexed(names, counters)
            if header.group(1) == "[[":
                counters[names] = counters.get(names, -1) + 1
                lines.setdefault(table, number)
                table = (*table, counters[names])
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        path = table + tuple(_split_dotted(key.group(1)))
        lines.setdefault(path, number)
        value = line[key.end() :]
        for quote in ('"""', "'''"):
            if value.count(quote) % 2 == 1:
                in_string = quote
        if in_string is None:
            depth = max(0, _bracket_balance(value))
    return lines


def line_of(text: str, path: tuple, lines: dict[tuple, int] | None = None) -> int | None:
    """Line of ``path`` in ``text``, or of its longest defined prefix; None when nothing matches."""
    lines = key_lines(text) if lines is None else lines
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', key)
    return [p.strip("\"'") for p in parts]


def _indexed(names: tuple, counters: dict[tuple, int]) -> tuple:
    """Insert the current index after every prefix that is an array of tables: (a, b) -> (a, 2, b)."""
    path: tuple = ()
    for i, name in enumerate(names):
        path += (name,)
        prefix = names[: i + 1]
        if prefix in counters and i < len(names) - 1:
            path += (counters[prefix],)
    return path


def _bracket_balance(text: str) -> int:
    """Open minus closed brackets outside strings and comments."""
    balance = 0
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            balance += 1
        elif ch in "]}":
            balance -= 1
    return balance
