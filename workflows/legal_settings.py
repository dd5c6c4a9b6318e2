"""Legal settings: the numbers of the law that are administrator data, with documented defaults.

Some figures a process needs are not fixed by a national text: a province sets them (e.g. the
jurisdiction over property-only fires, 《火灾事故调查规定》 §6), or their text could not be found
and the rule is built with a default an administrator can correct. They are listed, each with
its Chinese label, type, default, unit and legal basis, in ``bpmn/legal_settings.json`` — data,
not code. The server stores an administrator's overrides; :func:`effective` merges them over the
defaults, and every new case takes a snapshot of the result into its workflow data as
``settings``, so a running case keeps the values it started with (and its audit trail says
which) while new cases follow a change. BPMN and DMN expressions read ``settings["key"]``.

Pure Python: no Flask, no I/O beyond reading the catalogue file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "bpmn" / "legal_settings.json"
TYPES = ("integer", "number", "boolean", "string")
_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class SettingError(ValueError):
    """A setting that does not exist, or a value of the wrong type or out of range."""


@dataclass(frozen=True)
class Setting:
    """One administrator-set figure of the law."""

    key: str
    label: str  # Chinese, shown to administrators
    type: str  # integer | number | boolean | string
    default: Any
    basis: str  # the article it rests on, or why it is administrator data
    unit: str = ""
    min: float | None = None
    max: float | None = None
    used_by: str = ""  # which rule reads it (for the administrators' page)

    def check(self, value: Any) -> Any:
        """The value as stored (an int for an integer…); SettingError when it does not fit."""
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise SettingError(f"{self.label}：应为是或否")
            return value
        if self.type == "string":
            if not isinstance(value, str) or not value.strip() or len(value) > 500:
                raise SettingError(f"{self.label}：应为不超过500字的文字")
            return value.strip()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingError(f"{self.label}：应为数字")
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingError(f"{self.label}：应为数字")
        if self.type == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise SettingError(f"{self.label}：应为整数")
            value = int(value)
        if self.min is not None and value < self.min:
            raise SettingError(f"{self.label}：不能小于{_fmt(self.min)}{self.unit}")
        if self.max is not None and value > self.max:
            raise SettingError(f"{self.label}：不能大于{_fmt(self.max)}{self.unit}")
        return value


def _fmt(number: float) -> str:
    """``3.0`` → ``3``; other numbers as they are."""
    return str(int(number)) if float(number).is_integer() else str(number)


def parse_catalogue(
    raw: Mapping[str, Any], source: str = "legal_settings.json"
) -> tuple[Setting, ...]:
    """Validate the catalogue's JSON and return its settings; ValueError naming the problem."""
    entries = raw.get("settings")
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'settings' must be a list")
    settings: list[Setting] = []
    for index, entry in enumerate(entries):
        where = f"{source}: settings[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be an object")
        for name in ("key", "label", "type", "default", "basis"):
            if name not in entry:
                raise ValueError(f"{where} has no {name!r}")
        key = entry["key"]
        if not isinstance(key, str) or not key or not set(key) <= _KEY_CHARS:
            raise ValueError(f"{where}: key {key!r} must be lower-case letters, digits and _")
        if entry["type"] not in TYPES:
            raise ValueError(f"{where} ({key}): type must be one of {', '.join(TYPES)}")
        if not str(entry["basis"]).strip():
            raise ValueError(f"{where} ({key}): a setting needs its basis")
        setting = Setting(
            key=key,
            label=str(entry["label"]),
            type=str(entry["type"]),
            default=entry["default"],
            basis=str(entry["basis"]),
            unit=str(entry.get("unit", "")),
            min=entry.get("min"),
            max=entry.get("max"),
            used_by=str(entry.get("used_by", "")),
        )
        try:
            setting.check(setting.default)
        except SettingError as exc:
            raise ValueError(f"{where} ({key}): the default does not fit: {exc}") from None
        if any(s.key == key for s in settings):
            raise ValueError(f"{where}: duplicate key {key!r}")
        settings.append(setting)
    return tuple(settings)


@cache
def _load(path: Path) -> tuple[Setting, ...]:
    return parse_catalogue(json.loads(path.read_text(encoding="utf-8")), path.name)


def catalogue(path: Path | None = None) -> tuple[Setting, ...]:
    """The settings of ``bpmn/legal_settings.json`` (read once), in the file's order."""
    return _load(path or CATALOGUE_PATH)


def setting(key: str, path: Path | None = None) -> Setting:
    """One setting by key; SettingError when there is none."""
    for item in catalogue(path):
        if item.key == key:
            return item
    raise SettingError(f"没有名为 {key} 的设置项")


def defaults(path: Path | None = None) -> dict[str, Any]:
    """Every setting's documented default."""
    return {s.key: s.default for s in catalogue(path)}


def effective(
    overrides: Mapping[str, Any] | None = None, path: Path | None = None
) -> dict[str, Any]:
    """The defaults with the administrator's ``overrides`` applied.

    Overrides of keys the catalogue no longer lists, or that no longer fit the setting (its type
    or range was changed in the file), are ignored: the documented default applies instead.
    """
    values = defaults(path)
    for item in catalogue(path):
        if overrides is not None and item.key in overrides:
            try:
                values[item.key] = item.check(overrides[item.key])
            except SettingError:
                continue
    return values
