"""Official documents (文书) as data: the templates in ``documents/``, checked and filled.

Each ``documents/<kind>.toml`` describes one kind of document (see ``docs/documents-engine.md``):
its name, the task(s) that issue it, its layout class, its numbering pattern, and its text —
fixed wording with named fields in braces, ``{case.unit_name}``,
``{register_hazard.found_on|date}``. This module loads and checks templates and fills them from
a context (plain dicts); it knows nothing of Flask or the database. Rendering to PDF is
``server.documents.render``.

Field namespaces:

``<task>.<field>``
    a field of the form of ``<task>`` (``forms/<task>.json``) as the case stored it.
``case.<fact>``
    the case facts in :data:`CASE_FACTS`.
``issuer.<x>``
    the issuing agency and officer: :data:`ISSUER_FACTS`.
``lane.<lane>``
    the name of the agency that works ``<lane>`` for the case (``lane.fire_rescue``).
``document.<x>``
    the document itself: :data:`DOCUMENT_FACTS` (its number once issued, the day of issue).
``process.<output>``
    a decision's output (a DMN ``output`` name in ``bpmn/*.dmn``) as the case data holds it,
    e.g. ``{process.fire_level_name}`` (一般火灾).
``timer.<id>``
    the due time the timer event ``<id>`` of the case's process would get now, on the case
    data with the step's form (``workflows.engine.Instance.timer_due``): the date the process
    is about to set, e.g. an extended determination deadline (use ``|date``).

A field of an array of objects names the item's key as a third part:
``{cause_investigation.parties.name|list}`` joins every party's name with ``、``.
``quoted.<x>``
    the case's latest issued document of the kind named by the template's ``quotes`` (a 批复
    quotes the 请示 it answers), as issued: :data:`QUOTED_FACTS`.

``settings.<key>``
    a legal setting of the case (``bpmn/legal_settings.json``), as the case's snapshot holds it
    (the period a timer of the process counts, printed in the document that announces it).

Alternatives: ``{a.x/b.y}`` is the first of ``a.x``, ``b.y`` that is not empty (the served
认定书's number: the extended determination's, else the first determination's).

``computed.<name>``
    a value of the template's ``[computed]`` table: a checked expression (the BPMN expression
    language of :mod:`workflows.script_env`, its day helpers bound to the case's calendar)
    evaluated over the process data and the namespaces above, e.g. the reply deadline
    ``working_days_after(document["date"], settings.get("credit_reply_working_days", 10))``.

Filters after ``|``: ``date`` (``2026-12-07`` → ``2026年12月7日``), ``label`` (a choice's
Chinese title from the form), ``list`` (a list joined with ``、``, choices by their titles),
``time`` (``09:05`` → ``9时05分``, the 送达回证's 送达时间).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workflows.bpmn_xml import local_name, parse
from workflows.forms import FormDefinitionError, all_task_ids, load_form, resolve_form
from workflows.lanes import LANE_RULES
from workflows.legal_settings import catalogue
from workflows.script_env import UnsafeExpression, check_source

DOCUMENTS_DIR = Path(__file__).resolve().parent.parent / "documents"
BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

LAYOUTS = ("letter", "notice", "report")
"""``letter``: GB/T 9704 信函格式 (函); ``report``: GB/T 9704 文件格式 of an upward 公文
(请示); ``notice``: a law-enforcement document (black agency name, 第NNNN号, receipt lines)."""

CASE_FACTS = {
    "number": "督办编号",
    "case_no": "立案编号",
    "unit_name": "单位名称",
    "address": "详细地址",
    "district": "所在县市区",
}
ISSUER_FACTS = {"agency": "发文机关", "agency_short": "机关代字", "officer": "承办人"}
DOCUMENT_FACTS = {"number": "文号", "date": "成文日期", "name": "文种名称"}
QUOTED_FACTS = {
    "title": "所答复文书的标题",
    "number": "所答复文书的文号",
    "date": "所答复文书的成文日期",
    "found": "是否有该文书（true/false）",
}
FILTERS = ("date", "label", "list", "time")
#: ``date = "document.date"``: the 成文日期 is the day the document is issued (the completion).
ISSUE_DAY = "document.date"
NUMBER_FIELDS = {"agency_short", "year", "seq"}

#: Shown in place of the number before it is allocated (the preview).
NUMBER_PENDING = "（文号在提交时生成）"

_REF = r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*"
# a reference, optionally with an item key (``t.parties.name``); alternatives joined by ``/``
_ITEM_REF = _REF + r"(?:\.[a-z_][a-z0-9_]*)?"
_FIELD = re.compile(r"\{(" + _ITEM_REF + r"(?:/" + _ITEM_REF + r")*)(?:\|([a-z]+))?\}")
#: A reference to a field of the rows of a form's list: ``parties[].credit_referral``.
_ROW_FIELD = re.compile(r"([a-z_][a-z0-9_]*)\[\]\.([a-z_][a-z0-9_]*)")
_BRACE = re.compile(r"[{}]")
_KIND = re.compile(r"[a-z][a-z0-9_]*")


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        """:param path: the template file. :param problem: what is wrong (English)."""
        super().__init__(f"{path.name}: {problem}")
        self.path = path


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of fixed text with fields, and the source its wording rests on."""

    text: str
    source: str
    own_wording: bool = False
    """True when no official wording was found: Duban's plain neutral sentence."""
    when: tuple[str, tuple[str, ...]] | None = None
    """(field, values): the paragraph is used only when that field has one of the values."""
    if_set: str | None = None
    """``ns.field``: the paragraph is used only when that field is not empty (an optional 备注)."""


@dataclass(frozen=True)
class Template:
    """One kind of document."""

    kind: str
    name: str
    tasks: tuple[str, ...]
    layout: str
    numbering: str
    title: str
    issuer: str
    addressee: str
    date: str
    paragraphs: tuple[Paragraph, ...]
    number_field: str | None = None
    """``task.field`` of the form where the generated number is recorded (read-only there)."""
    addressee_label: str = ""
    titles: Mapping[str, str] = field(default_factory=dict)
    """Title by the value of :attr:`title_by` (e.g. the 请示's subject by the report kind)."""
    title_by: str | None = None
    receipt: tuple[str, ...] = ()
    """Lines for the recipient's signature (law-enforcement documents' 存档 copy)."""
    when: tuple[str, tuple[str, ...]] | None = None
    """(task.field, values): issued only when the completing step's form has one of the values
    (a 临时查封决定书 only when the decision is to seal)."""
    counter: str | None = None
    """The kind whose number sequence this one shares (one 文种 issued by two tasks with
    different forms: two templates, one sequence of numbers)."""
    quotes: str | None = None
    """The kind of the case's earlier document this one answers (``quoted.*`` fields)."""
    signer: str = ""
    """签发人 (text with fields): printed on the number line of an upward 公文 (GB/T 9704)."""
    cc: str = ""
    """抄送机关 (text with fields): the 版记's 抄送 line; nothing printed when it fills empty."""
    computed: Mapping[str, str] = field(default_factory=dict)
    """``{computed.<name>}``: name → a checked expression over the process data and the
    namespaces (see the module docstring), evaluated when the document is filled."""
    path: Path | None = None

    @property
    def counter_kind(self) -> str:
        """The kind the numbers are counted under: :attr:`counter`, else :attr:`kind`."""
        return self.counter or self.kind

    def applies(self, form: Mapping[str, Any]) -> bool:
        """Whether a completion with ``form`` (the step's data) issues this document."""
        if self.when is None:
            return True
        return holds(form, self.when[0].partition(".")[2], self.when[1])

    def _texts(self) -> list[str]:
        texts = [
            self.title,
            self.issuer,
            self.addressee,
            self.signer,
            self.cc,
            *self.titles.values(),
        ]
        return texts + [p.text for p in self.paragraphs] + list(self.receipt)

    def fields(self) -> set[tuple[str, str, str | None]]:
        """Every (namespace, name, filter) the template names."""
        found: set[tuple[str, str, str | None]] = {
            (parts[0], parts[1], m.group(2))
            for t in self._texts()
            for m in _FIELD.finditer(t)
            for parts in (ref.split(".") for ref in m.group(1).split("/"))
        }
        refs = [self.date, *(p.when[0] for p in self.paragraphs if p.when)]
        refs += [r for r in (self.title_by, self.number_field) if r]
        refs += [self.when[0]] if self.when else []
        refs += [p.if_set for p in self.paragraphs if p.if_set]
        for ref in refs:
            ns, _, name = ref.partition(".")
            found.add((ns, name, None))
        return found

    def item_fields(self) -> set[tuple[str, str, str]]:
        """Every (task, array field, item key) the template names: ``{t.parties.name|list}``."""
        return {
            (parts[0], parts[1], parts[2])
            for t in self._texts()
            for m in _FIELD.finditer(t)
            for parts in (ref.split(".") for ref in m.group(1).split("/"))
            if len(parts) == 3
        }

    def timers(self) -> set[str]:
        """The timer events the template names (``{timer.<id>}``)."""
        return {name for ns, name, _ in self.fields() if ns == "timer"}


def as_choice(value: Any) -> str:
    """A form value as a choice's key: ``True`` → ``"true"`` (as JSON writes it), else str."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _when(raw: Any, path: Path, where: str) -> tuple[str, tuple[str, ...]] | None:
    """``[field, value]`` or ``[field, [value, …]]`` → (field, values)."""
    if raw is None:
        return None
    values = raw[1] if isinstance(raw, list) and len(raw) == 2 else None
    if isinstance(values, str):
        values = [values]
    if (
        not isinstance(raw[0] if isinstance(raw, list) and raw else None, str)
        or not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) for v in values)
    ):
        raise TemplateError(path, f'{where}"when" must be [field, value] or [field, [values]]')
    return raw[0], tuple(values)


def _ref(raw: Any, path: Path, where: str) -> str | None:
    """A ``ns.field`` reference, or None."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not re.fullmatch(_REF, raw):
        raise TemplateError(path, f'{where}"if_set" must be "ns.field"')
    return raw


def holds(data: Mapping[str, Any], name: str, wanted: tuple[str, ...]) -> bool:
    """Whether the field ``name`` of ``data`` has one of the values ``wanted`` (booleans as
    ``true``/``false``); for a field of a list's rows, ``parties[].credit_referral``, whether
    any row has one."""
    row = _ROW_FIELD.fullmatch(name)
    if row:
        rows = data.get(row.group(1))
        return isinstance(rows, list) and any(
            isinstance(r, Mapping) and as_choice(r.get(row.group(2))) in wanted for r in rows
        )
    return as_choice(data.get(name)) in wanted


def format_number(pattern: str, agency_short: str, year: int, seq: int) -> str:
    """The document number from its pattern: ``{agency_short}隐改字〔{year}〕第{seq:04d}号``."""
    return pattern.format(agency_short=agency_short, year=year, seq=seq)


def check_numbering(pattern: str) -> str | None:
    """Why a numbering pattern is unusable, or None."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"numbering {pattern!r}: {exc}"
    names = {name for _, name, _, _ in parts if name is not None}
    if not names <= NUMBER_FIELDS:
        return f"numbering {pattern!r}: unknown field(s) {sorted(names - NUMBER_FIELDS)}"
    if not {"year", "seq"} <= names:
        return f"numbering {pattern!r}: needs {{year}} and {{seq}}"
    try:
        format_number(pattern, "武消", 2026, 17)
    except (ValueError, KeyError, IndexError) as exc:
        return f"numbering {pattern!r}: {exc}"
    return None


def default_agency_short(name: str, kind: str) -> str:
    """The default 机关代字 of an agency, derived from its name (administrators may set their
    own): a fire agency ``武陵区消防救援大队`` → ``武消``, a government ``武陵区人民政府`` →
    ``武政``, a safety committee office → ``武消委``, a street or department ``武陵区南坪街道``
    → ``武南`` (the first character of the name and of the part after the district)."""
    first = name[:1]
    if kind in ("fire_brigade", "fire_detachment"):
        return first + "消"
    if kind == "government":
        return first + "政"
    if kind == "safety_office":
        return first + "消委"
    cut = max(name.rfind(c, 0, max(len(name) - 2, 1)) for c in "区县市")
    rest = name[cut + 1 :] if cut >= 0 else name[1:]
    return first + (rest[:1] or "")


def cn_date(value: Any) -> str:
    """``2026-12-07`` → ``2026年12月7日`` (no padding, as GB/T 9704 §7.3.5.4 writes dates)."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_time(value: Any) -> str:
    """``09:05`` → ``9时05分`` (as a 送达回证 writes the hour and minute); other text unchanged."""
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", str(value).strip())
    return f"{int(match.group(1))}时{match.group(2)}分" if match else str(value)


# --------------------------------------------------------------------------- loading


def _text(raw: Mapping[str, Any], key: str, path: Path, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TemplateError(path, f'"{key}" must be a non-empty string')
    return value


def read_template(path: Path) -> Template:
    """Read and check one template file (its fields against the forms, see :func:`check`).

    :raises TemplateError: naming the file.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(path, f"cannot be read: {exc}") from exc
    kind = _text(raw, "kind", path)
    if not _KIND.fullmatch(kind) or kind != path.stem:
        raise TemplateError(path, f"kind {kind!r} must be the file's name in lower case")
    layout = _text(raw, "layout", path)
    if layout not in LAYOUTS:
        raise TemplateError(path, f"unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
    tasks = raw.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise TemplateError(path, '"tasks" must be a list of task ids')
    numbering = _text(raw, "numbering", path)
    problem = check_numbering(numbering)
    if problem:
        raise TemplateError(path, problem)
    paragraphs = []
    for index, para in enumerate(raw.get("paragraphs", [])):
        if not isinstance(para, dict):
            raise TemplateError(path, f"paragraphs[{index}] must be a table")
        paragraphs.append(
            Paragraph(
                text=_text(para, "text", path),
                source=_text(para, "source", path),
                own_wording=bool(para.get("own_wording", False)),
                when=_when(para.get("when"), path, f"paragraphs[{index}]: "),
                if_set=_ref(para.get("if_set"), path, f"paragraphs[{index}]: "),
            )
        )
    if not paragraphs:
        raise TemplateError(path, "no paragraphs")
    when = _when(raw.get("when"), path, "")
    counter = raw.get("counter")
    if counter is not None and (not isinstance(counter, str) or not _KIND.fullmatch(counter)):
        raise TemplateError(path, f'"counter" {counter!r} must be a kind')
    titles = raw.get("titles", {})
    if not isinstance(titles, dict) or not all(isinstance(v, str) for v in titles.values()):
        raise TemplateError(path, '"titles" must be a table of strings')
    computed = raw.get("computed", {})
    if not isinstance(computed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in computed.items()
    ):
        raise TemplateError(path, '"computed" must be a table of expressions')
    for name, expression in computed.items():
        if not _KIND.fullmatch(name):
            raise TemplateError(path, f"computed {name!r}: not a field name")
        try:
            check_source(expression, "eval")
        except UnsafeExpression as exc:
            raise TemplateError(path, f"computed {name!r}: {exc}") from exc
    receipt = raw.get("receipt", [])
    if not isinstance(receipt, list) or not all(isinstance(r, str) for r in receipt):
        raise TemplateError(path, '"receipt" must be a list of strings')
    quotes = raw.get("quotes")
    if quotes is not None and (not isinstance(quotes, str) or not _KIND.fullmatch(quotes)):
        raise TemplateError(path, f'"quotes" {quotes!r} must be a kind')
    template = Template(
        kind=kind,
        name=_text(raw, "name", path),
        tasks=tuple(tasks),
        layout=layout,
        numbering=numbering,
        title=_text(raw, "title", path),
        issuer=_text(raw, "issuer", path),
        addressee=_text(raw, "addressee", path),
        date=_text(raw, "date", path),
        paragraphs=tuple(paragraphs),
        number_field=raw.get("number_field") or None,
        addressee_label=_text(raw, "addressee_label", path, required=False),
        titles=dict(titles),
        title_by=raw.get("title_by") or None,
        receipt=tuple(receipt),
        when=when,
        counter=counter or None,
        quotes=quotes or None,
        signer=_text(raw, "signer", path, required=False),
        cc=_text(raw, "cc", path, required=False),
        computed=dict(computed),
        path=path,
    )
    check(template)
    return template


def _form_properties(task: str) -> dict[str, Any] | None:
    try:
        return dict(load_form(task).get("properties", {}))
    except KeyError:
        return None


def check(template: Template) -> None:
    """Check that every field the template names exists (in the forms, the case facts, the
    lanes), that its tasks have forms, and that its number field is read-only.

    :raises TemplateError: naming the file and the field.
    """
    path = template.path or Path(f"{template.kind}.toml")
    known_tasks = set(all_task_ids())
    for task in template.tasks:
        if task not in known_tasks:
            raise TemplateError(path, f"task {task!r} has no form in forms/")
    lanes = {rule.lane for rule in LANE_RULES}
    fixed: dict[str, Mapping[str, Any] | frozenset[str]] = {
        "case": CASE_FACTS,
        "issuer": ISSUER_FACTS,
        "document": DOCUMENT_FACTS,
        "process": decision_outputs(),
        "timer": timer_events(),
        "settings": {s.key: s.label for s in catalogue()},
    }
    if template.quotes:
        fixed["quoted"] = QUOTED_FACTS
    for ns, name, filt in sorted(template.fields(), key=lambda f: (f[0], f[1], f[2] or "")):
        where = f"{{{ns}.{name}{'|' + filt if filt else ''}}}"
        if filt is not None and filt not in FILTERS:
            raise TemplateError(path, f"{where}: unknown filter {filt!r}")
        if ns in fixed:
            if name not in fixed[ns]:
                raise TemplateError(path, f"{where}: no such {ns} fact")
        elif ns == "lane":
            if name not in lanes:
                raise TemplateError(path, f"{where}: no such lane")
        elif ns == "computed":
            if name not in template.computed:
                raise TemplateError(path, f"{where}: not in the template's [computed] table")
        else:
            props = _form_properties(ns)
            if props is None:
                raise TemplateError(path, f"{where}: no form forms/{ns}.json")
            row = _ROW_FIELD.fullmatch(name)
            if row:
                items = props.get(row.group(1), {}).get("items", {})
                if row.group(2) not in items.get("properties", {}):
                    raise TemplateError(path, f"{where}: the form of {ns} has no field {name!r}")
            elif name not in props:
                raise TemplateError(path, f"{where}: the form of {ns} has no field {name!r}")
    for ns, name, key in sorted(template.item_fields()):
        where = f"{{{ns}.{name}.{key}}}"
        node = (_form_properties(ns) or {}).get(name, {})
        items = node.get("items", {}) if node.get("type") == "array" else {}
        if key not in items.get("properties", {}):
            raise TemplateError(path, f"{where}: {ns}.{name} is no array of objects with {key!r}")
    if template.number_field:
        ns, _, name = template.number_field.partition(".")
        if ns not in template.tasks:
            raise TemplateError(path, f"number_field {template.number_field!r}: not a task of it")
        props = _form_properties(ns) or {}
        if not props.get(name, {}).get("readOnly"):
            raise TemplateError(
                path, f"number_field {template.number_field!r} must be readOnly in its form"
            )
        required = load_form(ns).get("required", [])
        if name in required:
            raise TemplateError(
                path, f"number_field {template.number_field!r} must not be required"
            )
    if template.when:
        ns, _, name = template.when[0].partition(".")
        if ns not in template.tasks:
            raise TemplateError(path, f"when {template.when[0]!r}: not a field of its tasks")
        choices = _field_choices(template.when[0])
        bad = [v for v in template.when[1] if choices and v not in choices]
        if bad:
            raise TemplateError(path, f"when: {bad[0]!r} is not a value of {template.when[0]}")
    for para in template.paragraphs:
        if para.when is None:
            continue
        choices = _field_choices(para.when[0])
        wrong = [v for v in para.when[1] if choices and v not in choices]
        if wrong:
            raise TemplateError(
                path, f"paragraph when: {wrong[0]!r} is not a value of {para.when[0]}"
            )
    if template.title_by and set(template.titles) and _field_choices(template.title_by):
        unknown = set(template.titles) - set(_field_choices(template.title_by))
        if unknown:
            raise TemplateError(
                path, f"titles: {sorted(unknown)} are not values of {template.title_by}"
            )
    for text in [template.title, *(p.text for p in template.paragraphs)]:
        stripped = _FIELD.sub("", text)
        if _BRACE.search(stripped):
            raise TemplateError(path, f"a brace that is not a field in {text[:40]!r}")


@cache
def decision_outputs() -> frozenset[str]:
    """The output names of every decision table (``bpmn/*.dmn``): the ``process`` namespace."""
    names = set()
    for path in sorted(BPMN_DIR.glob("*.dmn")):
        for element in parse(path.read_bytes()).iter():
            if (
                isinstance(element.tag, str)
                and local_name(element) == "output"
                and element.get("name")
            ):
                names.add(str(element.get("name")))
    return frozenset(names)


@cache
def timer_events() -> frozenset[str]:
    """The ids of every timer event of the processes (``bpmn/*.bpmn``): the ``timer``
    namespace."""
    ids = set()
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        for element in parse(path.read_bytes()).iter():
            tags = {local_name(child) for child in element if isinstance(child.tag, str)}
            if "timerEventDefinition" in tags and element.get("id"):
                ids.add(str(element.get("id")))
    return frozenset(ids)


@cache
def _field_choices(ref: str) -> dict[str, str]:
    """A form field's choices (value → Chinese title), built-in option lists resolved; for
    ``task.array.key`` those of the key of the array's items."""
    ns, _, name = ref.partition(".")
    name, _, key = name.partition(".")
    try:
        props = resolve_form(ns).get("properties", {})
    except KeyError:
        return {}
    row = _ROW_FIELD.fullmatch(name)
    if row:
        items = props.get(row.group(1), {}).get("items", {})
        node = items.get("properties", {}).get(row.group(2), {})
    else:
        node = props.get(name, {})
    if node.get("type") == "array":
        node = node.get("items", {})
    if key:
        node = node.get("properties", {}).get(key, {})
    return {
        str(c["const"]).lower() if isinstance(c["const"], bool) else str(c["const"]): str(
            c.get("title", c["const"])
        )
        for c in node.get("oneOf", [])
        if "const" in c
    }


def load_templates(directory: Path | None = None) -> dict[str, Template]:
    """Every template of ``directory`` (``documents/``), by kind.

    :raises TemplateError: on the first broken file.
    """
    folder = directory or DOCUMENTS_DIR
    templates = {}
    for path in sorted(folder.glob("*.toml")):
        template = read_template(path)
        templates[template.kind] = template
    for template in templates.values():
        if template.counter is None:
            continue
        shared = templates.get(template.counter)
        path = template.path or Path(f"{template.kind}.toml")
        if shared is None:
            raise TemplateError(path, f"counter {template.counter!r}: no such kind")
        if shared.numbering != template.numbering or shared.counter is not None:
            raise TemplateError(
                path, f"counter {template.counter!r}: must have the same numbering, own counter"
            )
    for template in templates.values():
        if template.quotes is not None and template.quotes not in templates:
            path = template.path or Path(f"{template.kind}.toml")
            raise TemplateError(path, f"quotes {template.quotes!r}: no such kind")
    return templates


@cache
def templates() -> dict[str, Template]:
    """The templates of ``documents/``, read once per process."""
    return load_templates()


def templates_for_task(task: str, form: Mapping[str, Any] | None = None) -> list[Template]:
    """The templates a completion of ``task`` may issue, in kind order; with ``form`` (the
    step's data) only those it issues (their ``when`` holds)."""
    found = [t for t in templates().values() if task in t.tasks]
    return [t for t in found if form is None or t.applies(form)]


# The documents a step decides on, shown inline (the text as issued, its number, a link to the
# PDF) on the step's task page and in the API's task detail: task → the kinds of the case's
# documents it shows. No one approves blind, no one retypes (issue 17). Checked by
# ``python -m workflows check``: every task has a form, every kind a template.
SHOWN_TO_TASK: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # the fire agency files the case the street/department referred: the 函告书
        "file_case": ("hazard_referral_letter",),
        # the government decides on the fire agency's 请示 (facts and proposal)
        "government_decision": ("government_request",),
        # the fire agency asks for closure on the re-inspection it made: the 复查意见书
        "request_closure": ("reinspection_opinion",),
        # the government decides on the fire agency's 销案 请示
        "close_case": ("closure_request",),
        # each department replies to the credit joint-punishment letter addressed to it
        "credit_development_reform": ("credit_referral_letter_development_reform",),
        "credit_housing": ("credit_referral_letter_housing",),
        "credit_finance": ("credit_referral_letter_finance",),
        "credit_market_regulation": ("credit_referral_letter_market_regulation",),
    }
)


def kinds_shown_to(task: str) -> tuple[str, ...]:
    """The kinds of the case's documents the task ``task`` shows (see ``SHOWN_TO_TASK``)."""
    return SHOWN_TO_TASK.get(task, ())


def quoted_facts(filled: Filled | None, title: str, number: str) -> dict[str, str]:
    """The ``quoted.*`` facts of an issued document (its stored text when it has one), or of
    none (``found`` = ``"false"``: a case that reached the step before that document existed)."""
    if filled is None and not number:
        return {"title": "", "number": "", "date": "", "found": "false"}
    return {
        "title": filled.title if filled else title,
        "number": filled.number if filled else number,
        "date": filled.date if filled else "",
        "found": "true",
    }


def check_shown(known_kinds: set[str], known_tasks: set[str]) -> list[str]:
    """Why ``SHOWN_TO_TASK`` is broken: a task without a form, an unknown kind."""
    problems = []
    for task, kinds in SHOWN_TO_TASK.items():
        if task not in known_tasks:
            problems.append(f"SHOWN_TO_TASK: task {task!r} has no form in forms/")
        problems.extend(
            f"SHOWN_TO_TASK: {task}: no template documents/{kind}.toml"
            for kind in kinds
            if kind not in known_kinds
        )
    return problems


# --------------------------------------------------------------------------- filling


@dataclass(frozen=True)
class Filled:
    """A template with its fields filled: what the renderer draws."""

    kind: str
    name: str
    layout: str
    title: str
    number: str
    issuer: str
    addressee: str
    addressee_label: str
    date: str
    paragraphs: tuple[str, ...]
    receipt: tuple[str, ...]
    signer: str = ""
    """签发人's name (upward 公文), empty when none."""
    cc: str = ""
    """抄送机关, empty when none."""

    def to_json(self) -> dict[str, Any]:
        """The filled text as stored with the issued document (``document.filled``)."""
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Filled:
        """The filled text stored at issue (a key missing from an older row reads empty)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name in ("paragraphs", "receipt"):
                values[f.name] = tuple(str(v) for v in value or ())
            else:
                values[f.name] = "" if value is None else str(value)
        return cls(**values)


def _lookup(context: Mapping[str, Any], ns: str, name: str) -> Any:
    scope = context.get(ns)
    if not isinstance(scope, Mapping):
        return None
    return scope.get(name)


def _first(context: Mapping[str, Any], refs: str) -> tuple[str, str, Any]:
    """The first of the alternatives ``a.x/b.y`` that is not empty: (ns, name, value); the
    last one (empty) when none is set."""
    ns = name = ""
    value: Any = None
    for ref in refs.split("/"):
        ns, name, *key = ref.split(".")
        value = _lookup(context, ns, name)
        if key:  # one key of each item of an array of objects
            items = value if isinstance(value, list) else []
            value = [
                i.get(key[0])
                for i in items
                if isinstance(i, Mapping) and i.get(key[0]) not in (None, "")
            ]
            name = f"{name}.{key[0]}"
        if value is not None and value != "" and value != []:
            break
    return ns, name, value


def _show(ns: str, name: str, value: Any, filt: str | None) -> str:
    if value == [] and filt == "list":
        return "（无）"
    if value is None or value == "" or value == []:
        return ""
    if filt == "date":
        return cn_date(value)
    if filt == "time":
        return cn_time(value)
    if filt in ("label", "list"):
        choices = _field_choices(f"{ns}.{name}")
        items = value if isinstance(value, list) else [value]
        shown = [
            choices.get(str(v).lower() if isinstance(v, bool) else str(v), str(v)) for v in items
        ]
        # a label that is a sentence ends with 。; inside the document's own sentence it must not
        return "、".join(label.rstrip("。；;") for label in shown)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an area of 300.0 square metres prints as 300
    return str(value)


def fill_text(text: str, context: Mapping[str, Any]) -> str:
    """The text with every ``{ns.name|filter}`` replaced from ``context`` (missing: empty)."""

    def replace(match: re.Match[str]) -> str:
        refs, filt = match.groups()
        ns, name, value = _first(context, refs)
        return _show(ns, name, value, filt)

    return _FIELD.sub(replace, text)


def fill(template: Template, context: Mapping[str, Any]) -> Filled:
    """Fill a template from ``context``: ``{"case": {...}, "issuer": {...}, "lane": {...},
    "document": {"number": ...}, "<task>": <form data>, ...}``.

    Paragraphs whose ``when`` does not hold are left out; a paragraph whose filled text has
    line breaks (an officer's numbered requirements) becomes one paragraph per line, and
    empty lines are dropped.
    """
    title = template.title
    if template.title_by:
        ns, _, name = template.title_by.partition(".")
        chosen = _lookup(context, ns, name)
        title = template.titles.get(as_choice(chosen), title)
    paragraphs: list[str] = []
    for para in template.paragraphs:
        if para.when:
            ns, _, name = para.when[0].partition(".")
            if as_choice(_lookup(context, ns, name)) not in para.when[1]:
                continue
        if para.if_set and _first(context, para.if_set)[2] in (None, "", []):
            continue
        lines = (line.strip() for line in fill_text(para.text, context).splitlines())
        paragraphs.extend(line for line in lines if line)
    ns, _, name = template.date.partition(".")
    number = _lookup(context, "document", "number") or NUMBER_PENDING
    return Filled(
        kind=template.kind,
        name=template.name,
        layout=template.layout,
        title=fill_text(title, context),
        number=str(number),
        issuer=fill_text(template.issuer, context),
        addressee=fill_text(template.addressee, context),
        addressee_label=template.addressee_label,
        date=cn_date(_lookup(context, ns, name)) if _lookup(context, ns, name) else "",
        paragraphs=tuple(paragraphs),
        receipt=tuple(fill_text(line, context) for line in template.receipt),
        signer=fill_text(template.signer, context).strip(),
        cc=fill_text(template.cc, context).strip(),
    )


def compute(
    template: Template,
    scope: Mapping[str, Any],
    evaluate: Callable[[str, dict[str, Any]], Any],
) -> dict[str, Any]:
    """The values of the template's ``[computed]`` table.

    :param scope: the names the expressions read (process data and the fill namespaces).
    :param evaluate: evaluates one checked expression over a scope (the script engine's
        restricted environment, bound to the case's calendar).
    :raises ComputeError: naming the template and the expression that failed.
    """
    values: dict[str, Any] = {}
    for name, expression in template.computed.items():
        try:
            values[name] = evaluate(expression, dict(scope))
        except Exception as exc:
            raise ComputeError(f"{template.kind}: computed {name!r}: {exc!r}") from exc
    return values


class ComputeError(ValueError):
    """A ``[computed]`` expression failed on the case's data."""


def check_all() -> list[str]:
    """Load every template of ``documents/``; one line per kind for ``python -m workflows
    check``.

    :raises TemplateError: naming the broken file.
    """
    try:
        loaded = load_templates()
    except FormDefinitionError as exc:  # a form a template names is broken
        raise TemplateError(Path("documents"), str(exc)) from exc
    problems = check_shown(set(loaded), set(all_task_ids()))
    if problems:
        raise TemplateError(Path(__file__), "; ".join(problems))
    return [
        f"document {t.kind} ({t.name}, {t.layout}) by {', '.join(t.tasks)}: {t.numbering}"
        for t in loaded.values()
    ] + [f"document shown to {task}: {', '.join(kinds)}" for task, kinds in SHOWN_TO_TASK.items()]
