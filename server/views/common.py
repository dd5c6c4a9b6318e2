"""Small helpers shared by the HTML views: paging, safe redirects, form option lists, the
administrators' banners."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app, has_request_context, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from server import reads
from server.auth import safe_target
from server.engine import get_engine
from server.parsing import MAX_PAGE, BadParameter, positive_int
from server.queries import InboxQuery
from workflows.jurisdiction import DIVISIONS

log = logging.getLogger(__name__)


@dataclass
class Page:
    """One page of a list."""

    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link, with None for a gap: 1 … 4 5 6 … 12."""
        shown = {1, self.pages, *range(self.number - 2, self.number + 3)}
        numbers = sorted(n for n in shown if 1 <= n <= self.pages)
        window: list[int | None] = []
        for n in numbers:
            if window and n - (window[-1] or 0) > 1:
                window.append(None)
            window.append(n)
        return window


def page_number() -> int:
    """The ``page`` request argument (1 when missing or empty).

    :raises BadParameter: 400 naming the parameter unless it is a page number (1 to MAX_PAGE).
    """
    value = request.args.get("page", "")
    if not value:
        return 1
    try:
        return positive_int(value, MAX_PAGE)
    except ValueError as exc:
        raise BadParameter("页码", "page", str(exc)) from None


def _page_of(number: int, total: int) -> tuple[int, int]:
    """The page shown for page ``number`` of ``total`` rows (the last when beyond it), and
    the page size (the PAGE_SIZE setting)."""
    size = int(current_app.config.get("PAGE_SIZE", 20))
    return min(number, max(1, math.ceil(total / size))), size


def paginate(query: Select[Any], number: int) -> Page:
    """Run ``query`` for one page (size from the PAGE_SIZE setting), with the total count; the
    items are ``query``'s scalars."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = int(reads.scalar(counted) or 0)
    number, size = _page_of(number, total)
    items = list(reads.scalars(query.limit(size).offset((number - 1) * size)).unique())
    return Page(items, number, size, total)


def paginate_bound(query: InboxQuery, number: int, *, total: int | None = None) -> Page:
    """:func:`paginate` for statements built once (:class:`server.queries.InboxQuery`): its
    ``count`` (unless ``total`` is known) and one page of its ``rows`` (plain columns:
    :func:`server.reads.columns`), with their bound parameters."""
    if total is None:
        total = int(reads.columns(query.count, query.params).scalar() or 0)
    number, size = _page_of(number, total)
    items = list(reads.columns(query.rows, query.page(number, size)).all())
    return Page(items, number, size, total)


#: What werkzeug's default (string) converter leaves unquoted in a path segment.
_SEGMENT_SAFE = "!$&'()*+,/:;=@"
_PLACEHOLDER = "0000dubanplaceholder0000"
_NUMBER_PLACEHOLDER = 987654321987654321


class UrlPattern:
    """``url_for(endpoint, **{name: value}, **values)`` for many values of one argument, built
    once: a list page links every row, and werkzeug's URL building costs ~10 µs a link.

    The URL is built once with a placeholder and split around it; each value is quoted as
    werkzeug's string and int converters quote it (an int's digits stand as they are).
    """

    def __init__(self, endpoint: str, name: str, **values: Any) -> None:
        marker: str | int = _PLACEHOLDER
        try:
            url = url_for(endpoint, **{**values, name: marker})
        except ValueError:  # an int converter refuses text: mark the place with a number
            marker = _NUMBER_PLACEHOLDER
            url = url_for(endpoint, **{**values, name: marker})
        self.head, found, self.tail = url.partition(str(marker))
        if not found:
            raise ValueError(f"{endpoint}: {name} is not in its URL")

    def __call__(self, value: Any) -> str:
        return f"{self.head}{quote_segment(value)}{self.tail}"

    def quoted(self, segment: str) -> str:
        """The URL for a value already quoted by :func:`quote_segment` (one quoting for the
        several links of a row)."""
        return f"{self.head}{segment}{self.tail}"


def quote_segment(value: Any) -> str:
    """``value`` quoted as werkzeug's converters quote a path segment."""
    return quote(str(value), safe=_SEGMENT_SAFE)


def safe_next(default: str) -> str:
    """The submitted ``next`` URL if it is a path on this site, else ``default`` (see
    :func:`server.auth.safe_target`)."""
    return safe_target(request.form.get("next", "") or request.args.get("next", ""), default)


def process_choices() -> list[tuple[str, str]]:
    """(process id, Chinese name) of the current processes."""
    catalog = get_engine().catalog
    return [(pid, catalog.latest(pid).name) for pid in catalog.process_ids()]


def district_choices() -> list[tuple[str, str]]:
    """(division code, Chinese name) of Changde's county-level divisions."""
    return [(d.code, d.name) for d in DIVISIONS]


def filter_args(names: tuple[str, ...]) -> dict[str, str]:
    """The non-empty filter arguments of the request (for paging links)."""
    return {n: request.args[n] for n in names if request.args.get(n)}


def here() -> str:
    """The current path with its query string (to come back to after a POST)."""
    full = request.full_path
    return full[:-1] if full.endswith("?") else full


def case_url(case_id: int) -> str:
    """The case page."""
    return url_for("cases.show", case_id=case_id)


def admin_banner(name: str, empty: Any, compute: Callable[[], Any]) -> dict[str, Any]:
    """A template context value shown to administrators only: ``{name: compute()}`` on their
    pages, ``{name: empty}`` for everyone else, and also when the database fails (the 500 page
    after a failed transaction must still render)."""
    if (
        not has_request_context()
        or not current_user.is_authenticated
        or not current_user.has_role("admin")
    ):
        return {name: empty}
    try:
        return {name: compute()}
    except SQLAlchemyError:
        log.warning("%s unavailable", name, exc_info=True)
        reads.rollback()
        return {name: empty}
