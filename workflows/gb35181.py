"""GB 35181 major-fire-hazard judgement (重大火灾隐患判定): editions, element catalogues, DMN runs.

**Editions are data.** Each installed edition of GB 35181 is two files in a catalogue
directory: the element catalogue ``gb35181_YYYY_elements.json`` (elements, groups, exclusions,
site categories, and the edition's validity period ``valid_from`` / ``valid_to`` with
``superseded_by``) and the DMN decision table ``gb35181_YYYY.dmn`` (decision id
``gb35181_YYYY``), the single source of that edition's rules. Installing an edition is adding
those two files; ``python -m workflows check`` validates them. The directories searched are
``bpmn/``, or the ``os.pathsep``-separated list in the environment variable
``DUBAN_GB35181_PATH`` (tests point it at ``tests/fixtures/gb35181`` as well).

**The edition is chosen by date** (:func:`select_edition`): the edition in force on the day the
hazard was found (``register_hazard["found_on"]``). When the edition in force on that day is
not installed (GB 35181-2025 since 2025-11-01: its normative text could not be obtained), the
latest installed edition before it is used **as an aid only**: the verdict says so, names both
editions (``superseded`` is true), and the process sends the case to the fire rescue agency
for determination instead of letting the street close it.

**Element ids carry their edition.** GB 35181-2017 keeps the bare clause ids it has always
stored (``6.5``, ``7.3.1``: every case stored before editions were data holds these), and every
other edition's ids are prefixed with its year (``2025:5.1``); the loader enforces it, so a
stored element is never ambiguous across editions. :func:`qualified` shows an id with its
edition (``GB 35181-2017 6.5``).

**Exclusions** work per hazard (``exclusions``: the hazard is not judged major) and, for
editions whose catalogue declares ``element_exclusions``, per element
(``register_hazard["element_exclusions"]``: ``[{"element": id, "exclusion": id}]``; the
element is removed before the DMN counts). Exclusions flagged ``fire_agency_confirms`` (2017
5.1.3 c) are not for the discovering street to conclude: the case goes to the fire agency.

The process runs :func:`judge_registration` through the whitelisted script helper
``judge_hazard(register_hazard, settings)`` in the script task ``preliminary_judgement``; the
CLI (``judge-hazard``) runs :func:`judge`; both evaluate the same DMN through
:mod:`workflows.decisions`. :func:`count_elements`, :func:`list_elements` and :func:`has_any`
are the helpers the DMN expressions call.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache, partial
from pathlib import Path
from typing import Any, TypedDict

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from workflows import decisions
from workflows.calendar import today_shanghai

DEFAULT_EDITION = "GB 35181-2017"
#: The edition whose element ids are bare clause numbers (stored before editions were data).
LEGACY_EDITION = "GB 35181-2017"
BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
PATH_ENV = "DUBAN_GB35181_PATH"
ELEMENT_SEPARATOR = "、"
JUDGEMENT_OUTPUTS = ("judgement_major", "judgement_basis", "judgement_edition")

#: Legal settings (bpmn/legal_settings.json) holding the procedure's minimum numbers for
#: hazards whose edition in force declares no procedure (GB 35181-2025 deleted it).
PROCEDURE_SETTINGS = {
    "deliberation_min_participants": "major_hazard_deliberation_min_participants",
    "expert_panel_min": "major_hazard_expert_panel_min",
    "expert_agreement_numerator": "major_hazard_expert_agreement_numerator",
    "expert_agreement_denominator": "major_hazard_expert_agreement_denominator",
}
PROCEDURE_SETTINGS_BASIS = (
    "法定设置（管理员数据）：GB 35181-2025 删除了判定原则和程序一章，集体讨论人数、专家组人数和"
    "同意比例在其他规定中未查到；《消防监督检查规定》（公安部令第120号）第二十一条要求重大火灾隐患"
    "“应当组织集体研究确定”、可以“组织专家论证”，未规定人数。默认值沿用 GB 35181-2017 4.2、4.3。"
)

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
    """A case that is never judged a major hazard (2017 5.1.3 ``a``, ``b``, ``c``), or, for
    an element exclusion, a reason an element is not counted."""

    id: str
    text: str
    fire_agency_confirms: bool = False


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
    valid_from: date | None = None
    valid_to: date | None = None
    superseded_by: str | None = None
    element_exclusions: tuple[Exclusion, ...] = ()
    procedure: Mapping[str, Any] | None = None
    directory: Path = BPMN_DIR

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
        prefix = self.id_prefix
        ids_to_check = [*ids, *self.exclusion_ids, *(x.id for x in self.element_exclusions)]
        wrong = [i for i in ids_to_check if (":" in i) != bool(prefix) or not i.startswith(prefix)]
        if wrong:
            expected = f"prefixed {prefix!r}" if prefix else "bare clause numbers"
            raise ValueError(f"{self.edition}: ids must be {expected}: {wrong}")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"{self.edition}: valid_from is after valid_to")

    @property
    def year(self) -> str:
        """The edition's year (``"2017"``)."""
        return edition_slug(self.edition).rsplit("_", 1)[1]

    @property
    def id_prefix(self) -> str:
        """What every id of the edition starts with: ``""`` for 2017, else ``"YYYY:"``."""
        return "" if self.edition == LEGACY_EDITION else f"{self.year}:"

    @property
    def element_ids(self) -> tuple[str, ...]:
        """All element ids in the standard's order."""
        return tuple(e.id for e in self.elements)

    @property
    def exclusion_ids(self) -> tuple[str, ...]:
        """The ids of the whole-hazard exclusions (2017 5.1.3: ``a``, ``b``, ``c``)."""
        return tuple(x.id for x in self.exclusions)

    @property
    def element_exclusion_ids(self) -> tuple[str, ...]:
        """The ids of the element exclusions (empty when the edition declares none)."""
        return tuple(x.id for x in self.element_exclusions)

    @property
    def site_category_ids(self) -> tuple[str, ...]:
        """The ids of the site categories."""
        return tuple(c.id for c in self.site_categories)

    @property
    def dmn_path(self) -> Path:
        """The edition's decision table, next to its catalogue."""
        return self.directory / f"{edition_slug(self.edition)}.dmn"

    def covers(self, day: date) -> bool:
        """Whether the edition was in force on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

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

    def clause(self, ident: str) -> str:
        """An id without the edition prefix (``"2025:5.1"`` → ``"5.1"``)."""
        return ident[len(self.id_prefix) :] if ident.startswith(self.id_prefix) else ident


def edition_slug(edition: str) -> str:
    """File stem of an edition: ``"GB 35181-2017"`` → ``"gb35181_2017"`` (also the decision id)."""
    match = _EDITION_RE.fullmatch(edition.strip()) if isinstance(edition, str) else None
    if match is None:
        raise ValueError(f"unknown GB 35181 edition {edition!r}")
    return f"gb35181_{match.group(1)}"


def catalogue_dirs() -> tuple[Path, ...]:
    """The directories holding edition files: ``$DUBAN_GB35181_PATH`` or ``bpmn/``."""
    value = os.environ.get(PATH_ENV, "").strip()
    if not value:
        return (BPMN_DIR,)
    return tuple(Path(part) for part in value.split(os.pathsep) if part.strip())


def catalogue_path(edition: str = DEFAULT_EDITION) -> Path:
    """Path of the element catalogue JSON of an edition (it may not exist)."""
    name = f"{edition_slug(edition)}_elements.json"
    for directory in catalogue_dirs():
        if (directory / name).is_file():
            return directory / name
    return catalogue_dirs()[0] / name


def dmn_path(edition: str = DEFAULT_EDITION) -> Path:
    """Path of the DMN decision table of an edition (next to its catalogue; may not exist)."""
    return catalogue_path(edition).with_name(f"{edition_slug(edition)}.dmn")


def decision_id(edition: str = DEFAULT_EDITION) -> str:
    """The DMN decision id of an edition (``gb35181_2017``)."""
    return edition_slug(edition)


def edition_of(ident: str) -> str:
    """The edition an element or exclusion id belongs to (bare ids are GB 35181-2017's)."""
    if ":" in ident:
        return f"GB 35181-{ident.split(':', 1)[0]}"
    return LEGACY_EDITION


def qualified(ident: str) -> str:
    """An element id with its edition: ``"6.5"`` → ``"GB 35181-2017 6.5"``."""
    return f"{edition_of(ident)} {ident.split(':', 1)[-1]}"


def load_catalogue(edition: str = DEFAULT_EDITION) -> Catalogue:
    """Load (once per edition and directory list) and validate an edition's catalogue.

    Raises ValueError for an unknown edition or an inconsistent catalogue file.
    """
    return _load_catalogue(edition, catalogue_dirs())


def _date_or_none(value: Any, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what}: not a date {value!r}") from None


def _exclusions(raw: Iterable[Mapping[str, Any]]) -> tuple[Exclusion, ...]:
    return tuple(
        Exclusion(str(x["id"]), x["text"], bool(x.get("fire_agency_confirms", False))) for x in raw
    )


@cache
def _load_catalogue(edition: str, dirs: tuple[Path, ...]) -> Catalogue:
    """Cached body of :func:`load_catalogue` (keyed by the edition and the directories)."""
    edition_slug(edition)  # ValueError for a malformed edition name
    path = catalogue_path(edition)
    if not path.is_file():
        raise ValueError(f"unknown GB 35181 edition {edition!r}: no catalogue {path.name}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("edition") != edition:
        raise ValueError(f"{path.name} holds edition {raw.get('edition')!r}, not {edition!r}")
    procedure = raw.get("procedure")
    if procedure is not None:
        missing = [k for k in PROCEDURE_SETTINGS if not isinstance(procedure.get(k), int)]
        if missing or not procedure.get("basis"):
            raise ValueError(f"{path.name}: procedure needs integers {missing} and a basis")
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
        exclusions=_exclusions(raw["exclusions"]),
        site_categories=tuple(SiteCategory(c["id"], c["name"]) for c in raw["site_categories"]),
        sections=dict(raw.get("sections", {})),
        valid_from=_date_or_none(raw.get("valid_from"), f"{path.name} valid_from"),
        valid_to=_date_or_none(raw.get("valid_to"), f"{path.name} valid_to"),
        superseded_by=raw.get("superseded_by"),
        element_exclusions=_exclusions(raw.get("element_exclusions") or ()),
        procedure=dict(procedure) if procedure is not None else None,
        directory=path.parent,
    )


def installed_editions() -> tuple[Catalogue, ...]:
    """Every installed edition (catalogue + DMN present), oldest first.

    Raises ValueError when a catalogue has no DMN next to it, or when two editions' validity
    periods overlap (the edition for a date must be unique).
    """
    return _installed(catalogue_dirs())


@cache
def _installed(dirs: tuple[Path, ...]) -> tuple[Catalogue, ...]:
    names: set[str] = set()
    for directory in dirs:
        for path in directory.glob("gb35181_*_elements.json"):
            names.add(f"GB 35181-{path.name.split('_')[1]}")
    catalogues = [_load_catalogue(name, dirs) for name in names]
    for catalogue in catalogues:
        if not catalogue.dmn_path.is_file():
            raise ValueError(f"{catalogue.edition}: no decision table {catalogue.dmn_path.name}")
    catalogues.sort(key=lambda c: c.valid_from or date.min)
    for earlier, later in itertools.pairwise(catalogues):
        if earlier.valid_to is None or later.valid_from is None:
            raise ValueError(
                f"{earlier.edition} and {later.edition}: validity periods must not be open "
                "between two installed editions"
            )
        if earlier.valid_to >= later.valid_from:
            raise ValueError(f"{earlier.edition} and {later.edition}: validity periods overlap")
    if not catalogues:
        raise ValueError("no GB 35181 edition installed")
    return tuple(catalogues)


def check_editions() -> list[str]:
    """Validate every installed edition (catalogue, DMN schema, outputs); one line each.

    Raises ValueError naming the edition and the problem (``python -m workflows check``).
    """
    lines = []
    for catalogue in installed_editions():
        try:
            decisions.decision_engine(catalogue.dmn_path, decision_id(catalogue.edition))
            result = judge(
                catalogue.site_category_ids[:1], (), edition=catalogue.edition,
                on=catalogue.valid_from or catalogue.valid_to or today_shanghai(),
            )  # fmt: skip
        except Exception as exc:
            raise ValueError(f"GB 35181 edition {catalogue.edition}: {exc}") from None
        if result["edition"] != catalogue.edition:
            raise ValueError(f"{catalogue.dmn_path.name} names edition {result['edition']!r}")
        period = f"{catalogue.valid_from or '…'} – {catalogue.valid_to or '…'}"
        lines.append(
            f"{catalogue.edition} {catalogue.title} ({period}): {len(catalogue.elements)} "
            f"elements, {catalogue.dmn_path.name} ok"
        )
    return lines


@dataclass(frozen=True)
class EditionChoice:
    """Which edition judges a hazard found on ``on``."""

    on: date
    used: Catalogue
    applicable: str  # the edition in force on ``on`` (installed or not)
    superseded: bool  # the edition used had been replaced by ``on``: an aid only

    @property
    def aid_label(self) -> str:
        """The Chinese caveat of a verdict by a superseded edition ("" when in force)."""
        if not self.superseded:
            return ""
        return (
            f"按已被代替的 {self.used.edition} 要素初判，仅供参考"
            f"（现行 {self.applicable} 本系统尚未收录，须由消防救援机构判定）"
        )


def select_edition(on: date) -> EditionChoice:
    """The edition to judge a hazard found on ``on``.

    The installed edition in force that day; failing that (its successor is in force but not
    installed) the latest installed edition before ``on``, as an aid (``superseded``); a day
    before every installed edition falls to the oldest one.
    """
    installed = installed_editions()
    for catalogue in installed:
        if catalogue.covers(on):
            return EditionChoice(on, catalogue, catalogue.edition, False)
    earlier = [c for c in installed if c.valid_to is not None and c.valid_to < on]
    if earlier:
        used = earlier[-1]
        return EditionChoice(on, used, used.superseded_by or "（后续版本）", True)
    return EditionChoice(on, installed[0], installed[0].edition, False)


def all_element_options() -> list[tuple[str, str]]:
    """Every installed edition's elements as (id, "GB 35181-YYYY clause text"), newest last."""
    editions = installed_editions()
    several = len(editions) > 1
    return [(e.id, _option_label(c, e.id, e.text, several)) for c in editions for e in c.elements]


def all_exclusion_options(per_element: bool = False) -> list[tuple[str, str]]:
    """Every installed edition's hazard (or element) exclusions as (id, label)."""
    editions = installed_editions()
    several = len(editions) > 1
    return [
        (x.id, _option_label(c, x.id, x.text, several))
        for c in editions
        for x in (c.element_exclusions if per_element else c.exclusions)
    ]


def _option_label(catalogue: Catalogue, ident: str, text: str, with_edition: bool) -> str:
    clause = catalogue.clause(ident)
    label = text if text.startswith(clause) else f"{clause} {text}"
    return f"{catalogue.edition} {label}" if with_edition else label


# --------------------------------------------------------------------------- script helpers


def _as_tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Normalise a list-like form value: None → (), a lone string → (string,); anything
    that is not a list of values (a number, a boolean from bad input) → ()."""
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    if not isinstance(values, Iterable) or isinstance(values, Mapping):
        return ()
    return tuple(v for v in values if isinstance(v, str))


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
    return ELEMENT_SEPARATOR.join(catalogue.clause(i) for i in catalogue.sort_ids(matching))


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
    applicable_edition: str
    superseded: bool


def script_helpers(edition: str = DEFAULT_EDITION) -> dict[str, Callable[..., Any]]:
    """The GB 35181 helpers bound to ``edition``, as the DMN expressions call them."""
    return {
        "count_elements": partial(count_elements, edition=edition),
        "list_elements": partial(list_elements, edition=edition),
        "has_any": has_any,
    }


@cache
def _script_engine(edition: str, dirs: tuple[Path, ...]) -> PythonScriptEngine:
    """The process's restricted script engine, with the helpers bound to ``edition``."""
    # Imported here: the script environment itself imports this module for its helpers.
    from workflows.script_env import DubanScriptEngine

    engine = DubanScriptEngine()
    engine.restricted.globals.update(script_helpers(edition))
    return engine


def evaluate_decision(data: dict[str, Any], edition: str = DEFAULT_EDITION) -> dict[str, Any]:
    """Run the edition's decision table on task ``data``; return the DMN outputs as a dict.

    ``data`` holds at least ``register_hazard``. Expression errors raise SpiffWorkflow's
    WorkflowTaskException.
    """
    path = dmn_path(edition)
    if not path.is_file():
        raise ValueError(f"unknown GB 35181 edition {edition!r}: no decision table {path.name}")
    engine = _script_engine(edition, catalogue_dirs())
    return decisions.evaluate(
        path, decision_id(edition), data, engine, f"重大火灾隐患判定 {edition}"
    )


def _element_exclusion_pairs(values: Any) -> list[tuple[str, str]]:
    """``[{"element": id, "exclusion": id}, ...]`` as pairs (malformed entries dropped)."""
    pairs: list[tuple[str, str]] = []
    if not isinstance(values, list):
        return pairs
    for item in values:
        if isinstance(item, Mapping):
            element, exclusion = item.get("element"), item.get("exclusion")
            if isinstance(element, str) and isinstance(exclusion, str):
                pairs.append((element, exclusion))
    return pairs


def _run(
    catalogue: Catalogue, register_hazard: Mapping[str, Any]
) -> tuple[bool, str, list[tuple[str, str]]]:
    """Run the edition's DMN on a registration, removing excluded elements first.

    Returns ``(major, basis, removed)`` where ``removed`` are the (element, exclusion) pairs
    taken out of the count (only for editions that declare element exclusions).
    """
    data = dict(register_hazard)
    removed: list[tuple[str, str]] = []
    if catalogue.element_exclusions:
        allowed = set(catalogue.element_exclusion_ids)
        ticked = set(_as_tuple(data.get("elements")))
        removed = [
            (e, x)
            for e, x in _element_exclusion_pairs(data.get("element_exclusions"))
            if x in allowed and e in ticked
        ]
        gone = {e for e, _ in removed}
        data["elements"] = [e for e in _as_tuple(data.get("elements")) if e not in gone]
    outputs = evaluate_decision({"register_hazard": data}, catalogue.edition)
    missing = [name for name in JUDGEMENT_OUTPUTS if name not in outputs]
    if missing:
        raise RuntimeError(f"decision {decision_id(catalogue.edition)} returned no {missing}")
    if outputs["judgement_edition"] != catalogue.edition:
        raise RuntimeError(
            f"decision {decision_id(catalogue.edition)} names edition "
            f"{outputs['judgement_edition']!r}, not {catalogue.edition!r}"
        )
    basis = str(outputs["judgement_basis"])
    if removed:
        listed = ELEMENT_SEPARATOR.join(
            f"{catalogue.clause(e)}（{catalogue.clause(x)}）"
            for e, x in sorted(removed, key=lambda p: catalogue.order(p[0]))
        )
        basis = f"{basis}；不作为判定要素：{listed}"
    return bool(outputs["judgement_major"]), basis, removed


def _choice(on: date | None, edition: str | None) -> EditionChoice:
    day = on or today_shanghai()
    choice = select_edition(day)
    if edition is None or edition == choice.used.edition:
        return choice
    used = load_catalogue(edition)
    superseded = used.valid_to is not None and day > used.valid_to
    return EditionChoice(day, used, choice.applicable, superseded)


def _labelled_basis(choice: EditionChoice, basis: str) -> str:
    return f"{choice.aid_label}：{basis}" if choice.superseded else basis


def _verdict(choice: EditionChoice, major: bool, basis: str) -> JudgementResult:
    """A verdict naming the edition used, the one in force, and whether it is an aid only."""
    return {
        "major": major,
        "basis": _labelled_basis(choice, basis),
        "edition": choice.used.edition,
        "applicable_edition": choice.applicable,
        "superseded": choice.superseded,
    }


def judge(
    categories: Iterable[str] | str,
    elements: Iterable[str] | str,
    exclusions: Iterable[str] | str | None = (),
    can_correct_immediately: bool = False,
    edition: str | None = None,
    on: date | None = None,
    element_exclusions: Iterable[Mapping[str, str]] = (),
) -> JudgementResult:
    """Judge a hazard by running the DMN table of the edition for ``on`` (default: today).

    ``categories`` are site-category ids, ``elements`` element ids (``"6.5"``,
    ``"2025:5.1"``), ``exclusions`` whole-hazard exclusion ids, ``element_exclusions``
    ``{"element", "exclusion"}`` pairs. ``edition`` forces an edition instead of choosing it
    by date. Returns ``major``, ``basis``, ``edition`` (the edition used),
    ``applicable_edition`` (the edition in force on ``on``) and ``superseded`` (the edition
    used had been replaced by ``on``: the basis then says the verdict is an aid only).
    """
    choice = _choice(on, edition)
    major, basis, _ = _run(
        choice.used,
        {
            "site_categories": list(_as_tuple(categories)),
            "elements": list(_as_tuple(elements)),
            "exclusions": list(_as_tuple(exclusions)),
            "element_exclusions": list(element_exclusions),
            "can_correct_immediately": bool(can_correct_immediately),
        },
    )
    return _verdict(choice, major, basis)


def procedure_for(choice: EditionChoice, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The minimum numbers of the deliberation and the expert review in force for a hazard.

    The edition's own procedure when the edition used is the one in force and declares one
    (GB 35181-2017 4.2, 4.3); otherwise the legal settings (the case's snapshot, else the
    documented defaults).
    """
    if not choice.superseded and choice.used.procedure is not None:
        return {**{k: int(choice.used.procedure[k]) for k in PROCEDURE_SETTINGS},
                "basis": str(choice.used.procedure["basis"])}  # fmt: skip
    from workflows.legal_settings import defaults

    values = {**defaults(), **dict(settings or {})}
    return {
        **{name: int(values[key]) for name, key in PROCEDURE_SETTINGS.items()},
        "basis": PROCEDURE_SETTINGS_BASIS,
    }


def _found_on(register_hazard: Mapping[str, Any]) -> date:
    value = register_hazard.get("found_on")
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return today_shanghai()


def judge_registration(
    register_hazard: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The preliminary judgement of a registration (the process's ``preliminary_judgement``).

    The edition is chosen by ``found_on``. Returns ``major``, ``basis``, ``edition``,
    ``applicable_edition``, ``superseded``, ``confirm_exclusions`` (claimed exclusions that
    only the fire agency may confirm) and ``procedure`` (:func:`procedure_for`).
    """
    choice = select_edition(_found_on(register_hazard))
    major, basis, _ = _run(choice.used, register_hazard)
    confirm = {x.id for x in choice.used.exclusions if x.fire_agency_confirms}
    return {
        **_verdict(choice, major, basis),
        "confirm_exclusions": sorted(confirm & set(_as_tuple(register_hazard.get("exclusions")))),
        "procedure": procedure_for(choice, settings),
    }


def registration_errors(register_hazard: Mapping[str, Any]) -> dict[str, str]:
    """Field errors of a registration against the edition chosen by its ``found_on``.

    Elements and exclusions must belong to that edition; element exclusions are allowed only
    when the edition declares them, and only for ticked elements.
    """
    if not isinstance(register_hazard.get("found_on"), str):
        return {}
    try:
        choice = select_edition(date.fromisoformat(register_hazard["found_on"]))
    except ValueError:
        return {}
    catalogue = choice.used
    errors: dict[str, str] = {}
    where = f"发现日期适用 {catalogue.edition}" + ("（仅供参考）" if choice.superseded else "")
    categories = register_hazard.get("site_categories")
    foreign_c = [c for c in _as_tuple(categories) if c not in catalogue.site_category_ids]
    if isinstance(categories, list) and foreign_c:
        errors["site_categories"] = (
            f"{where}，以下场所类别不属于该版本：{ELEMENT_SEPARATOR.join(map(str, foreign_c))}"
        )
    foreign = [
        e for e in _as_tuple(register_hazard.get("elements")) if e not in catalogue.element_ids
    ]
    if foreign:
        errors["elements"] = f"{where}，以下判定要素不属于该版本：{ELEMENT_SEPARATOR.join(foreign)}"
    foreign_x = [
        x for x in _as_tuple(register_hazard.get("exclusions")) if x not in catalogue.exclusion_ids
    ]
    if foreign_x:
        errors["exclusions"] = (
            f"{where}，以下不判定情形不属于该版本：{ELEMENT_SEPARATOR.join(foreign_x)}"
        )
    pairs = _element_exclusion_pairs(register_hazard.get("element_exclusions"))
    if pairs and not catalogue.element_exclusions:
        errors["element_exclusions"] = f"{where}，该版本没有“不作为判定要素”的情形"
    elif pairs:
        ticked = set(_as_tuple(register_hazard.get("elements")))
        bad = [e for e, x in pairs if e not in ticked or x not in catalogue.element_exclusion_ids]
        if bad:
            errors["element_exclusions"] = (
                f"不作为判定要素的情形只能针对已勾选的本版本要素：{ELEMENT_SEPARATOR.join(bad)}"
            )
    return errors


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
    """Validate the ``judge-hazard`` options against the catalogue of ``edition``.

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
        f"not a judgement element of {edition}",
    )
    exclusion_ids = _check(_split_list(exclusion), catalogue.exclusion_ids, "exclusion")
    return categories, element_ids, exclusion_ids


def _parse_element_exclusions(text: str | None, catalogue: Catalogue) -> list[dict[str, str]]:
    """``--element-exclusion 2025:5.2=2025:b,...`` → ``[{"element", "exclusion"}]``."""
    pairs = []
    for part in _split_list(text):
        element, sep, exclusion = part.partition("=")
        if not sep:
            raise ValueError(f"element exclusion {part!r} must read ELEMENT=EXCLUSION")
        _check([element], catalogue.element_ids, "element")
        _check(
            [exclusion],
            catalogue.element_exclusion_ids,
            f"element exclusion of {catalogue.edition}",
        )
        pairs.append({"element": element, "exclusion": exclusion})
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    """``judge-hazard`` as a plain command: ``python -m workflows.gb35181 --category ...``."""
    parser = argparse.ArgumentParser(
        prog="judge-hazard", description="GB 35181 重大火灾隐患判定 (runs the DMN table)"
    )
    parser.add_argument("--category", required=True, help="crowded,flammable,important,other")
    parser.add_argument("--elements", default="", help="element ids, e.g. 6.5,7.3.1")
    parser.add_argument("--exclusion", default=None, help="whole-hazard exclusions: a,b,c")
    parser.add_argument(
        "--element-exclusion", default=None, help="ELEMENT=EXCLUSION,... (editions that have them)"
    )
    parser.add_argument("--can-correct-immediately", action="store_true")
    parser.add_argument(
        "--on", default=None, help="the day the hazard was found, YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--edition", default=None, help="force an edition (default: by --on)")
    args = parser.parse_args(argv)
    try:
        on = date.fromisoformat(args.on) if args.on else today_shanghai()
    except ValueError:
        parser.error(f"--on {args.on!r} is not a date YYYY-MM-DD")
    try:
        choice = _choice(on, args.edition)
        categories, elements, exclusions = parse_cli_args(
            args.category, args.elements, args.exclusion, edition=choice.used.edition
        )
        element_exclusions = _parse_element_exclusions(args.element_exclusion, choice.used)
    except ValueError as err:
        parser.error(str(err))
    result = judge(
        categories,
        elements,
        exclusions,
        can_correct_immediately=args.can_correct_immediately,
        edition=choice.used.edition,
        on=on,
        element_exclusions=element_exclusions,
    )
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
