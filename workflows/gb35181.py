"""GB 35181 major-fire-hazard judgement (重大火灾隐患判定): element catalogue and DMN evaluation.

The rules live in one place only: the DMN decision table ``bpmn/gb35181_2017.dmn`` (decision id
``gb35181_2017``). The process runs it as the business rule task ``preliminary_judgement``;
:func:`judge` runs the same table standalone through SpiffWorkflow's DMN engine, so the CLI and
the process can never disagree. The element texts, groups and exclusions are versioned data in
``bpmn/gb35181_2017_elements.json``: an edition string such as ``"GB 35181-2017"`` selects both
files (``gb35181_2017_elements.json`` and ``gb35181_2017.dmn``), so a later edition is added as
two new files, not as code.

:func:`count_elements`, :func:`list_elements` and :func:`has_any` are script-environment helpers:
the DMN's input and output expressions call them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, TypedDict

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from workflows import decisions

DEFAULT_EDITION = "GB 35181-2017"
BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
ELEMENT_SEPARATOR = "、"
JUDGEMENT_OUTPUTS = ("judgement_major", "judgement_basis", "judgement_edition")

_EDITION_RE = re.compile(r"GB 35181-(\d{4})")
_LIST_SPLIT_RE = re.compile(r"[,，、;；\s]+")


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Element:
    """One judgement element of the standard (e.g. ``6.5`` or ``7.3.1``)."""

    id: str
    chapter: int
    text: str
    groups: tuple[str, ...]
    verified: bool
    section: str = ""


@dataclass(frozen=True)
class Exclusion:
    """A case of 5.1.3 that is never judged a major hazard (``a``, ``b`` or ``c``)."""

    id: str
    text: str


@dataclass(frozen=True)
class SiteCategory:
    """A site category used by the comprehensive judgement (``crowded``, ``flammable``...)."""

    id: str
    name: str


@dataclass(frozen=True)
class Catalogue:
    """The element catalogue of one edition of GB 35181, in the standard's order."""

    edition: str
    title: str
    elements: tuple[Element, ...]
    groups: Mapping[str, str]
    exclusions: tuple[Exclusion, ...]
    site_categories: tuple[SiteCategory, ...]
    sections: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [e.id for e in self.elements]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"{self.edition}: duplicate element ids {duplicates}")
        for element in self.elements:
            unknown = [g for g in element.groups if g not in self.groups]
            if unknown:
                raise ValueError(
                    f"{self.edition}: element {element.id} has unknown groups {unknown}"
                )
        empty = [g for g in self.groups if not self.group_members(g)]
        if empty:
            raise ValueError(f"{self.edition}: groups without elements {empty}")

    @property
    def element_ids(self) -> tuple[str, ...]:
        """All element ids in the standard's order."""
        return tuple(e.id for e in self.elements)

    @property
    def exclusion_ids(self) -> tuple[str, ...]:
        """The ids of the 5.1.3 exclusions (``a``, ``b``, ``c``)."""
        return tuple(x.id for x in self.exclusions)

    @property
    def site_category_ids(self) -> tuple[str, ...]:
        """The ids of the site categories."""
        return tuple(c.id for c in self.site_categories)

    def element(self, element_id: str) -> Element:
        """Return the element with this id; KeyError when it is not in the edition."""
        for element in self.elements:
            if element.id == element_id:
                return element
        raise KeyError(element_id)

    def order(self, element_id: str) -> int:
        """Position of an element in the standard (for sorting ``7.3.9`` before ``7.3.10``)."""
        return self.element_ids.index(element_id)

    def group_members(self, group: str) -> frozenset[str]:
        """The ids of the elements in ``group``; ValueError for an unknown group."""
        if group not in self.groups:
            raise ValueError(f"unknown element group {group!r} in {self.edition}")
        return frozenset(e.id for e in self.elements if group in e.groups)

    def sort_ids(self, element_ids: Iterable[str]) -> list[str]:
        """Known ids from ``element_ids``, deduplicated, in the standard's order."""
        known = set(self.element_ids)
        return sorted({i for i in element_ids if i in known}, key=self.order)


def edition_slug(edition: str) -> str:
    """File stem of an edition: ``"GB 35181-2017"`` → ``"gb35181_2017"`` (also the decision id)."""
    match = _EDITION_RE.fullmatch(edition.strip()) if isinstance(edition, str) else None
    if match is None:
        raise ValueError(f"unknown GB 35181 edition {edition!r}")
    return f"gb35181_{match.group(1)}"


def catalogue_path(edition: str = DEFAULT_EDITION) -> Path:
    """Path of the element catalogue JSON of an edition (it may not exist)."""
    return BPMN_DIR / f"{edition_slug(edition)}_elements.json"


def dmn_path(edition: str = DEFAULT_EDITION) -> Path:
    """Path of the DMN decision table of an edition (it may not exist)."""
    return BPMN_DIR / f"{edition_slug(edition)}.dmn"


def decision_id(edition: str = DEFAULT_EDITION) -> str:
    """The DMN decision id of an edition (``gb35181_2017``), as used by calledDecisionId."""
    return edition_slug(edition)


def load_catalogue(edition: str = DEFAULT_EDITION) -> Catalogue:
    """Load (once per edition) and validate the element catalogue of ``edition``.

    Raises ValueError for an unknown edition or an inconsistent catalogue file.
    """
    return _load_catalogue(edition)


@cache
def _load_catalogue(edition: str) -> Catalogue:
    """Cached body of :func:`load_catalogue` (keyed by the edition string alone)."""
    path = catalogue_path(edition)
    if not path.is_file():
        raise ValueError(f"unknown GB 35181 edition {edition!r}: no catalogue {path.name}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("edition") != edition:
        raise ValueError(f"{path.name} holds edition {raw.get('edition')!r}, not {edition!r}")
    return Catalogue(
        edition=raw["edition"],
        title=raw.get("title", ""),
        elements=tuple(
            Element(
                id=str(e["id"]),
                chapter=int(e["chapter"]),
                text=e["text"],
                groups=tuple(e.get("groups", ())),
                verified=bool(e.get("verified", False)),
                section=str(e.get("section", "")),
            )
            for e in raw["elements"]
        ),
        groups=dict(raw["groups"]),
        exclusions=tuple(Exclusion(str(x["id"]), x["text"]) for x in raw["exclusions"]),
        site_categories=tuple(SiteCategory(c["id"], c["name"]) for c in raw["site_categories"]),
        sections=dict(raw.get("sections", {})),
    )


# --------------------------------------------------------------------------- script helpers


def _as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Normalise a list-like form value: None → (), a lone string → (string,)."""
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def count_elements(
    elements: Iterable[str] | None, group: str, edition: str = DEFAULT_EDITION
) -> int:
    """Number of distinct ``elements`` that belong to ``group``; unknown ids are ignored.

    ``group`` is ``direct`` (chapter 6), ``chapter7``, ``crowded_a`` or ``flammable_b``;
    an unknown group raises ValueError (a typo in the DMN must not count as zero).
    """
    members = load_catalogue(edition).group_members(group)
    return len(set(_as_tuple(elements)) & members)


def list_elements(
    elements: Iterable[str] | None, group: str, edition: str = DEFAULT_EDITION
) -> str:
    """The ``elements`` that belong to ``group``, in the standard's order, joined with ``、``.

    Example: ``list_elements(["7.5", "7.3.6", "7.3.1", "7.4.1"], "crowded_a")`` →
    ``"7.3.1、7.3.6、7.5"``.
    """
    catalogue = load_catalogue(edition)
    members = catalogue.group_members(group)
    matching = [e for e in _as_tuple(elements) if e in members]
    return ELEMENT_SEPARATOR.join(catalogue.sort_ids(matching))


def has_any(values: Iterable[Any] | None, *wanted: Any) -> bool:
    """True when at least one of ``wanted`` is in ``values`` (None counts as empty)."""
    present = _as_tuple(values)
    return any(w in present for w in wanted)


# --------------------------------------------------------------------------- DMN evaluation


class JudgementResult(TypedDict):
    """What :func:`judge` returns (also the CLI's JSON)."""

    major: bool
    basis: str
    edition: str


def script_helpers(edition: str = DEFAULT_EDITION) -> dict[str, Callable[..., Any]]:
    """The GB 35181 helpers bound to ``edition``, as the DMN expressions call them."""
    return {
        "count_elements": partial(count_elements, edition=edition),
        "list_elements": partial(list_elements, edition=edition),
        "has_any": has_any,
    }


@cache
def _script_engine(edition: str) -> PythonScriptEngine:
    """The process's restricted script engine, with the helpers bound to ``edition``."""
    # Imported here: the script environment itself imports this module for its helpers.
    from workflows.script_env import DubanScriptEngine

    engine = DubanScriptEngine()
    engine.restricted.globals.update(script_helpers(edition))
    return engine


def evaluate_decision(data: dict[str, Any], edition: str = DEFAULT_EDITION) -> dict[str, Any]:
    """Run the edition's decision table on task ``data``; return the DMN outputs as a dict.

    ``data`` is what the process holds at ``preliminary_judgement`` (at least
    ``register_hazard``). Expression errors raise SpiffWorkflow's WorkflowTaskException.
    """
    path = dmn_path(edition)
    if not path.is_file():
        raise ValueError(f"unknown GB 35181 edition {edition!r}: no decision table {path.name}")
    return decisions.evaluate(
        path, decision_id(edition), data, _script_engine(edition), f"重大火灾隐患判定 {edition}"
    )


def judge(
    categories: Iterable[str] | str,
    elements: Iterable[str] | str,
    exclusions: Iterable[str] | str | None = (),
    can_correct_immediately: bool = False,
    edition: str = DEFAULT_EDITION,
) -> JudgementResult:
    """Judge a hazard by running the DMN table (the single source of the rules).

    ``categories`` are site-category ids (crowded, flammable, important, other), ``elements``
    element ids such as ``"6.5"`` or ``"7.3.1"``, ``exclusions`` 5.1.3 case ids (a, b, c).
    Returns ``{"major": bool, "basis": str, "edition": str}``; ValueError for an unknown
    edition.
    """
    load_catalogue(edition)  # ValueError early for an unknown edition
    data = {
        "register_hazard": {
            "site_categories": list(_as_tuple(categories)),
            "elements": list(_as_tuple(elements)),
            "exclusions": list(_as_tuple(exclusions)),
            "can_correct_immediately": bool(can_correct_immediately),
        }
    }
    outputs = evaluate_decision(data, edition)
    missing = [name for name in JUDGEMENT_OUTPUTS if name not in outputs]
    if missing:
        raise RuntimeError(f"decision {decision_id(edition)} returned no {missing}")
    return {
        "major": bool(outputs["judgement_major"]),
        "basis": str(outputs["judgement_basis"]),
        "edition": str(outputs["judgement_edition"]),
    }


# --------------------------------------------------------------------------- CLI


def _split_list(text: str | None) -> list[str]:
    """Split a CLI list on commas (ASCII or full-width), ``、``, semicolons or spaces."""
    if text is None:
        return []
    return [part for part in _LIST_SPLIT_RE.split(text.strip()) if part]


def _check(
    values: list[str], allowed: Sequence[str], what: str, hint: str | None = None
) -> tuple[str, ...]:
    """Deduplicate ``values`` in the order of ``allowed``; ValueError naming a bad value."""
    for value in values:
        if value not in allowed:
            expected = hint if hint is not None else f"expected one of {', '.join(allowed)}"
            raise ValueError(f"unknown {what} {value!r} ({expected})")
    wanted = set(values)
    return tuple(a for a in allowed if a in wanted)


def parse_cli_args(
    category: str,
    elements: str,
    exclusion: str | None,
    edition: str = DEFAULT_EDITION,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Validate the ``judge-hazard`` options against the catalogue.

    Each option is a comma-separated list (``--category crowded,important``,
    ``--elements 6.5,7.3.1``, ``--exclusion b``). Returns ``(categories, elements, exclusions)``
    deduplicated and in catalogue order; raises ValueError naming the first bad value. At least
    one category is required; ``elements`` may be empty.
    """
    catalogue = load_catalogue(edition)
    categories = _check(_split_list(category), catalogue.site_category_ids, "site category")
    if not categories:
        raise ValueError("at least one site category is required")
    element_ids = _check(
        _split_list(elements),
        catalogue.element_ids,
        "element",
        f"not a chapter 6 or 7 element of {edition}",
    )
    exclusion_ids = _check(_split_list(exclusion), catalogue.exclusion_ids, "exclusion (5.1.3)")
    return categories, element_ids, exclusion_ids


def main(argv: Sequence[str] | None = None) -> int:
    """``judge-hazard`` as a plain command: ``python -m workflows.gb35181 --category ...``."""
    parser = argparse.ArgumentParser(
        prog="judge-hazard", description="GB 35181 重大火灾隐患判定 (runs the DMN table)"
    )
    parser.add_argument("--category", required=True, help="crowded,flammable,important,other")
    parser.add_argument("--elements", default="", help="element ids, e.g. 6.5,7.3.1")
    parser.add_argument("--exclusion", default=None, help="5.1.3 cases: a,b,c")
    parser.add_argument("--can-correct-immediately", action="store_true")
    parser.add_argument("--edition", default=DEFAULT_EDITION)
    args = parser.parse_args(argv)
    try:
        categories, elements, exclusions = parse_cli_args(
            args.category, args.elements, args.exclusion, edition=args.edition
        )
    except ValueError as err:
        parser.error(str(err))
    result = judge(
        categories,
        elements,
        exclusions,
        can_correct_immediately=args.can_correct_immediately,
        edition=args.edition,
    )
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
