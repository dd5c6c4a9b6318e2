"""Untrusted input, parsed in one place: the one parser of positive integers (page numbers,
years, ids typed by people) and JSON with a nesting limit.

``str.isdigit()`` accepts '²', '٣' and '１２', which ``int()`` refuses or reads as another
number; a JSON body nested a few hundred levels deep parses, then overflows the stack of any
recursive walk over it (validation, the NUL check). Every request parameter that should be a
number goes through :func:`positive_int`, every JSON body through :func:`loads_json`, so that
odd input answers 400/422 naming the field, never 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

#: The largest page number a list accepts (bounds the OFFSET; a page beyond the last is empty).
MAX_PAGE = 100_000
#: The deepest JSON accepted (the outer object counts as one level). The API's own bodies
#: need three or four; jsonschema and our checks walk values recursively.
MAX_JSON_DEPTH = 32

_ASCII_DIGITS = re.compile(r"[0-9]+")  # not \d: in a str pattern it matches '٣' too


def positive_int(value: str, maximum: int, minimum: int = 1) -> int:
    """``value`` as an integer between ``minimum`` and ``maximum``: ASCII digits only, no sign,
    no spaces, no more digits than ``maximum`` has.

    :raises ValueError: with a Chinese message ("应为1至100000之间的整数") otherwise.
    """
    if (
        len(value) > len(str(maximum))
        or not _ASCII_DIGITS.fullmatch(value)
        or not minimum <= int(value) <= maximum
    ):
        raise ValueError(f"应为{minimum}至{maximum}之间的整数")
    return int(value)


class JsonTooDeep(ValueError):
    """JSON nested deeper than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"嵌套超过{limit}层")
        self.limit = limit


def nesting_depth(value: Any, limit: int) -> int:
    """How deep lists and dicts nest in ``value`` (a scalar is 0, ``[]`` is 1), counted without
    recursion; the count stops as soon as it exceeds ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """``json.loads(text, **kwargs)``, refusing values nested deeper than ``max_depth``.

    :raises JsonTooDeep: when nested too deep (also when the parser itself runs out of stack).
    :raises ValueError: when not JSON (``json.JSONDecodeError``, ``UnicodeDecodeError``).
    """
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    if nesting_depth(value, max_depth) > max_depth:
        raise JsonTooDeep(max_depth)
    return value


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: ``request.get_json()`` (and ``flask.json.loads``) parse with
    :func:`loads_json`, so a deep body is a 400 there as well."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_json(s, **kwargs)


class BadParameter(BadRequest):
    """A 400 whose Chinese description names the request parameter at fault (the HTML error
    page shows it)."""

    def __init__(self, label: str, name: str, problem: str) -> None:
        super().__init__(description=f"{label}（{name}）{problem}")
