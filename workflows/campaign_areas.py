"""The campaign areas (专项整治领域) of the three-year campaign plan: ``bpmn/campaign_areas.json``.

Administrator data read by registration (the choice of area), the 两个清单 and the reports. An
area has a stable ``code`` (stored on the case), a Chinese ``name``, the ``basis`` in the plan,
and optionally ``retired`` (kept for existing cases, no longer offered) and ``default_for`` (the
registration facts that gave older cases this area: see ``docs/reports.md``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from workflows.catalog import BPMN_DIR

CATALOGUE_FILE = BPMN_DIR / "campaign_areas.json"
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DEFAULT_KEYS = {"industry", "site_categories", "otherwise"}


@dataclass(frozen=True)
class CampaignArea:
    """One campaign area of the catalogue."""

    code: str
    name: str
    basis: str
    retired: bool = False


def check(raw: Any) -> list[str]:
    """The problems of a catalogue's parsed JSON (empty when it is valid)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("areas"), list):
        return ['the catalogue must be an object with an "areas" list']
    problems: list[str] = []
    codes: set[str] = set()
    names: set[str] = set()
    fallback = 0
    for index, area in enumerate(raw["areas"]):
        where = f"areas[{index}]"
        if not isinstance(area, dict):
            problems.append(f"{where}: must be an object")
            continue
        unknown = set(area) - {"code", "name", "basis", "retired", "default_for"}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        code, name, basis = area.get("code"), area.get("name"), area.get("basis")
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            problems.append(f"{where}: code must be lower-case letters, digits or _")
        elif code in codes:
            problems.append(f"{where}: code {code} is used twice")
        else:
            codes.add(code)
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            problems.append(f"{where}: name must be a non-empty text of at most 40 characters")
        elif name in names:
            problems.append(f"{where}: name {name} is used twice")
        else:
            names.add(name)
        if not isinstance(basis, str) or not basis.strip():
            problems.append(f"{where}: basis (the plan's section) is required")
        if "retired" in area and not isinstance(area["retired"], bool):
            problems.append(f"{where}: retired must be true or false")
        default = area.get("default_for")
        if default is not None:
            if not isinstance(default, dict) or not set(default) <= _DEFAULT_KEYS:
                problems.append(f"{where}: default_for may name {sorted(_DEFAULT_KEYS)}")
            elif default.get("otherwise") is True:
                fallback += 1
    if not any(isinstance(a, dict) and not a.get("retired") for a in raw["areas"]):
        problems.append("at least one area must be in use")
    if fallback != 1:
        problems.append('exactly one area must be the fallback (default_for {"otherwise": true})')
    return problems


def load(path: Path = CATALOGUE_FILE) -> tuple[CampaignArea, ...]:
    """Read and check a catalogue; the areas in their order.

    :raises ValueError: naming every problem of the file.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc
    problems = check(raw)
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    return tuple(
        CampaignArea(a["code"], a["name"], a["basis"], bool(a.get("retired", False)))
        for a in raw["areas"]
    )


@cache
def areas() -> tuple[CampaignArea, ...]:
    """The installed catalogue (read once per process)."""
    return load()


def names() -> dict[str, str]:
    """Area name by code, retired areas included (to show existing cases)."""
    return {area.code: area.name for area in areas()}


def options() -> list[tuple[str, str]]:
    """(code, name) of the areas registration offers (retired ones left out)."""
    return [(area.code, area.name) for area in areas() if not area.retired]
