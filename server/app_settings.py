"""Application settings: administrator data that is not a figure of the law.

The catalogue ``server/app_settings.json`` has the format of the legal settings' catalogue
(:mod:`workflows.legal_settings`), but no case takes a snapshot of these values: a change
applies at once. Administrators' values are kept in the same key → value table as the legal
settings' (:class:`server.models.LegalSetting`; a key is unique across both catalogues) and
are changed on the same page and API (:mod:`server.admin.legal_settings`).
"""

from __future__ import annotations

import json
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from flask import g, has_app_context

from server.extensions import db
from server.models import LegalSetting
from workflows.legal_settings import Setting, SettingError, parse_catalogue

CATALOGUE_PATH = Path(__file__).resolve().parent / "app_settings.json"
_CACHE = "_app_settings"


@cache
def catalogue() -> tuple[Setting, ...]:
    """The application settings, in the file's order."""
    raw = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    return parse_catalogue(raw, CATALOGUE_PATH.name)


def keys() -> set[str]:
    """The keys of the application settings."""
    return {s.key for s in catalogue()}


def value(key: str) -> Any:
    """The value in force of one application setting (read once per request or app context).

    An administrator's value that no longer fits the setting (the catalogue changed) is ignored.
    """
    cached: dict[str, Any] | None = g.get(_CACHE) if has_app_context() else None
    if cached is not None and key in cached:
        return cached[key]
    setting = next((s for s in catalogue() if s.key == key), None)
    if setting is None:
        raise SettingError(f"没有名为 {key} 的设置项")
    row = db.session.get(LegalSetting, key)
    result = setting.default
    if row is not None:
        with suppress(SettingError):
            result = setting.check(row.value)
    if has_app_context():
        g.setdefault(_CACHE, {})[key] = result
    return result


def forget() -> None:
    """Drop the values read in this context (after an administrator changed one)."""
    if has_app_context():
        g.pop(_CACHE, None)
