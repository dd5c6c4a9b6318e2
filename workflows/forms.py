"""Task forms: the JSON Schemas in ``forms/``, their option lists and their validation.

Every user task ``X`` of a process has a form ``forms/X.json``: a JSON Schema (draft 2020-12)
that carries the Chinese titles, help texts and choice labels, plus a few annotations that plain
JSON Schema has no word for:

``x-order``
    the order in which a UI shows the properties (also inside arrays of objects).
``x-widget``
    a UI hint: ``textarea`` (multi-line text), ``checkboxes``, ``radio`` or ``select``.
``x-options``
    the name of a dynamic option list, resolved by :func:`resolve_form` into ``oneOf``
    choices: ``districts``, ``gb35181_elements`` and ``gb35181_exclusions`` are built in,
    any other name (``agencies``) is filled from the caller's ``options``.
``x-messages``
    ``{keyword: Chinese message}`` on any sub-schema, replacing the generic message when that
    keyword fails (for example the legal minimum behind a ``minItems``).
``x-rules``
    cross-field rules JSON Schema cannot express (comparisons between fields and with today),
    as data: see :data:`RULE_KINDS`.
``x-tasks``
    (top level) further task ids that use this form: parallel tasks that record the same
    thing for different agencies share one file (``credit_punishment.json`` serves
    ``credit_housing``, ``credit_finance`` …).

Rules that JSON Schema can express (required-if via ``if``/``then``, ``minItems``) are written
in plain JSON Schema, so a client-side validator enforces them too.

:func:`validate_form` never raises on bad data: it returns ``{field_path: Chinese message}``.
"""

from __future__ import annotations

import copy
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from workflows.jurisdiction import DIVISIONS

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"

#: Key of errors that belong to the form as a whole rather than to one field.
FORM_ERROR_KEY = "_form"

#: The ``other`` operand of a date rule that means "the caller's today".
TODAY = "$today"

#: Option lists: name → ``[(value, Chinese label), ...]``.
Options = Mapping[str, Sequence[tuple[str, str]]]

JsonPath = tuple[str | int, ...]

#: x-rules the validator understands, with the operands each one needs.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    # field ≤ other; other is a number field or an array field (its item count)
    "lte": ("field", "other"),
    # field ≥ numerator/denominator × count of ``of`` (an array field, or a number field)
    "at_least_fraction": ("field", "of", "numerator", "denominator"),
    # date field ≤ other (a date field of the same form, or "$today")
    "date_not_after": ("field", "other"),
    # date field ≥ other
    "date_not_before": ("field", "other"),
    # date field > other
    "date_after": ("field", "other"),
    # a GB 35181 registration against the edition its found_on selects (elements, exclusions,
    # element exclusions, site categories): workflows.gb35181.registration_errors
    "gb35181_registration": ("field",),
    # --- rules reading the case data (``context``; skipped when validating without a case) ---
    # array field has at least the number at dotted path ``source`` of the case data
    # (``fallback`` when the case has none: cases started before the number was case data)
    "min_items_in_case": ("field", "source", "fallback"),
    # ``field`` may equal ``major_value`` only when ``votes`` ≥ numerator/denominator × count
    # of ``of``, and must when so; the fraction is read from the case data at ``source``
    # (keys expert_agreement_numerator / _denominator), else ``fallback`` [num, den]
    "majority_conclusion": ("field", "votes", "of", "major_value", "source", "fallback"),
    # field is required when the list at dotted path ``when`` of the case data holds ``contains``
    "required_when_case": ("field", "when", "contains"),
    # field must equal ``value`` when the case data at dotted path ``when`` equals ``equals``
    "equals_when_case": ("field", "value", "when", "equals"),
}

#: Rule kinds that read the case data: checked only when ``validate_form`` gets a context.
CASE_RULES = frozenset(
    {"min_items_in_case", "majority_conclusion", "required_when_case", "equals_when_case"}
)

WIDGETS = frozenset({"textarea", "checkboxes", "radio", "select"})
SUPPORTED_FORMATS = frozenset({"date"})

_TASK_ID = re.compile(r"[a-z][a-z0-9_]{0,99}")
_PREFILL = re.compile(r"([a-z][a-z0-9_]{0,99})\.([a-z][a-z0-9_]{0,99})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Years a form date may lie in: far-off dates (year 9999) are valid ISO dates, but a deadline
#: counted to them walks millions of calendar days and has no meaning in a case.
DATE_MIN_YEAR, DATE_MAX_YEAR = 2000, 2100
_FORMAT_CHECKER = FormatChecker(formats=sorted(SUPPORTED_FORMATS))
_MAX_KEY_IN_MESSAGE = 64
_MAX_REPORTED_EXTRAS = 20
# Bidirectional overrides can make a dossier display text other than what was stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_TYPE_NAMES = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "“是”或“否”",
    "array": "列表",
    "object": "对象",
    "null": "空值",
}


class FormDefinitionError(ValueError):
    """A form file is unreadable, not JSON, not a valid schema or breaks the form conventions."""

    def __init__(self, path: Path, problem: str) -> None:
        """:param path: the form file; :param problem: what is wrong with it."""
        self.path = path
        self.problem = problem
        super().__init__(f"form {path.name}: {problem}")


# --------------------------------------------------------------------------- loading


def _form_files() -> list[Path]:
    return sorted(p for p in FORMS_DIR.glob("*.json") if _TASK_ID.fullmatch(p.stem))


@cache
def _aliases() -> dict[str, str]:
    """Task id → form file stem, for the task ids forms list under ``x-tasks``."""
    aliases: dict[str, str] = {}
    for path in _form_files():
        try:
            listed = json.loads(path.read_text(encoding="utf-8")).get("x-tasks", [])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue  # reported by read_form_file when the form itself is loaded
        for task_id in listed if isinstance(listed, list) else []:
            if isinstance(task_id, str) and _TASK_ID.fullmatch(task_id):
                aliases.setdefault(task_id, path.stem)
    return aliases


def all_task_ids() -> list[str]:
    """Return the task ids that have a form in :data:`FORMS_DIR` (own or shared), sorted.

    A shared form's own file name is not a task id.
    """
    shared = set(_aliases().values())
    return sorted({p.stem for p in _form_files() if p.stem not in shared} | set(_aliases()))


def load_form(task_id: str) -> dict[str, Any]:
    """Return the checked schema of a task's form (a copy: callers may change it).

    :param task_id: the user task id, e.g. ``register_hazard``.
    :raises KeyError: no form exists for that task id.
    :raises FormDefinitionError: the form file is broken (the message names the file).
    """
    return copy.deepcopy(_load_cached(_checked_task_id(task_id)))


def check_all_forms() -> list[str]:
    """Load and check every form in :data:`FORMS_DIR`; return their task ids.

    Called at start-up so that a broken form stops the application with a message naming the
    file, instead of failing on the first officer who opens the task.

    :raises FormDefinitionError: on the first broken form.
    """
    task_ids = all_task_ids()
    for task_id in task_ids:
        _load_cached(task_id)
    for task_id in task_ids:
        for name, prop in _load_cached(task_id).get("properties", {}).items():
            source = prop.get("x-prefill")
            if source is None:
                continue
            other, _, field = source.partition(".")
            if other not in task_ids or field not in _load_cached(other).get("properties", {}):
                raise FormDefinitionError(
                    FORMS_DIR / f"{task_id}.json", f"{name}: x-prefill {source!r} names no field"
                )
    return task_ids


def prefill_values(schema: Mapping[str, Any], case_data: Mapping[str, Any]) -> dict[str, Any]:
    """The values a form starts with on its task page: each property marked
    ``"x-prefill": "task.field"`` takes that earlier step's stored value (what the step decided,
    so the officer does not type it twice; they may still change it). Absent values are left out.
    """
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        source = prop.get("x-prefill") if isinstance(prop, Mapping) else None
        if not isinstance(source, str):
            continue
        task, _, field = source.partition(".")
        step = case_data.get(task)
        if isinstance(step, Mapping) and step.get(field) is not None:
            values[name] = copy.deepcopy(step[field])
    return values


def read_form_file(path: Path) -> dict[str, Any]:
    """Read, parse and check one form file (uncached).

    :param path: the ``.json`` file.
    :raises FormDefinitionError: unreadable, invalid JSON, invalid schema or broken conventions.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormDefinitionError(path, f"cannot be read: {exc}") from exc
    try:
        schema = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FormDefinitionError(
            path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(schema, dict):
        raise FormDefinitionError(path, "the top level must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise FormDefinitionError(
            path, f"not a valid JSON Schema at {where}: {exc.message}"
        ) from exc
    problems = _lint_form(schema)
    if problems:
        raise FormDefinitionError(path, "; ".join(problems))
    return schema


def _checked_task_id(task_id: object) -> str:
    """Return ``task_id`` if a form file may exist for it; raise KeyError otherwise."""
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        raise KeyError(task_id)
    return task_id


@cache
def _load_cached(task_id: str) -> dict[str, Any]:
    """Read and check ``forms/<task_id>.json`` once (exceptions are not cached)."""
    path = FORMS_DIR / f"{task_id}.json"
    if not path.is_file():
        if task_id not in _aliases():
            raise KeyError(task_id)
        path = FORMS_DIR / f"{_aliases()[task_id]}.json"
    return read_form_file(path)


# --------------------------------------------------------------------------- form conventions


def _lint_form(schema: Mapping[str, Any]) -> list[str]:
    """Return the ways a parsed schema breaks the form conventions (empty when it keeps them)."""
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append('"type" must be "object"')
    for key in ("title", "description"):
        if not _nonempty_str(schema.get(key)):
            problems.append(f'the form needs a "{key}"')
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return [*problems, 'the form needs "properties"']
    _lint_object(schema, "", problems)
    tasks = schema.get("x-tasks", [])
    if not isinstance(tasks, list) or not all(
        isinstance(t, str) and _TASK_ID.fullmatch(t) for t in tasks
    ):
        problems.append('"x-tasks" must be a list of task ids')
    rules = schema.get("x-rules", [])
    if not isinstance(rules, list):
        problems.append('"x-rules" must be a list')
    else:
        for index, rule in enumerate(rules):
            problems.extend(f"x-rules[{index}]: {p}" for p in _lint_rule(rule, props))
    return problems


def _lint_object(node: Mapping[str, Any], where: str, problems: list[str]) -> None:
    """Check an object schema: closed, with ordered, titled, bounded properties."""
    props = node.get("properties")
    if not isinstance(props, dict) or not props:
        problems.append(f"{where or 'the form'}: an object needs properties")
        return
    if node.get("additionalProperties") is not False:
        problems.append(f'{where or "the form"}: "additionalProperties" must be false')
    for name in node.get("required", []):
        if name not in props:
            problems.append(f'{where or "the form"}: required "{name}" is not a property')
    order = node.get("x-order")
    if order is not None and (
        not isinstance(order, list)
        or sorted(order) != sorted(props)
        or len(set(order)) != len(order)
    ):
        problems.append(f'{where or "the form"}: "x-order" must list every property once')
    for name, prop in props.items():
        _lint_property(prop, f"{where}.{name}" if where else name, problems)


def _lint_property(prop: Any, where: str, problems: list[str]) -> None:
    """Check one property: Chinese title/description, bounded strings and arrays, known hints."""
    if not isinstance(prop, dict):
        problems.append(f"{where}: must be a schema object")
        return
    for key in ("title", "description"):
        if not _nonempty_str(prop.get(key)):
            problems.append(f'{where}: needs a "{key}"')
    _lint_value(prop, where, problems)


def _lint_value(node: Mapping[str, Any], where: str, problems: list[str]) -> None:
    """Check a value schema (a property or an array's items)."""
    kind = node.get("type")
    widget = node.get("x-widget")
    if widget is not None and widget not in WIDGETS:
        problems.append(f'{where}: unknown "x-widget" {widget!r}')
    if "x-options" in node and not _nonempty_str(node["x-options"]):
        problems.append(f'{where}: "x-options" must name an option list')
    prefill = node.get("x-prefill")
    if prefill is not None and not (isinstance(prefill, str) and _PREFILL.fullmatch(prefill)):
        problems.append(f'{where}: "x-prefill" must be "task.field"')
    if "format" in node and node["format"] not in SUPPORTED_FORMATS:
        problems.append(f'{where}: unsupported "format" {node["format"]!r}')
    if kind == "string":
        if not isinstance(node.get("maxLength"), int):
            problems.append(f'{where}: a string needs "maxLength"')
    elif kind == "array":
        if not isinstance(node.get("maxItems"), int):
            problems.append(f'{where}: an array needs "maxItems"')
        items = node.get("items")
        if not isinstance(items, dict):
            problems.append(f'{where}: an array needs an "items" schema')
        elif items.get("type") == "object":
            _lint_object(items, f"{where}[]", problems)
        else:
            _lint_value(items, f"{where}[]", problems)
    elif kind == "object":
        _lint_object(node, where, problems)
    elif kind not in ("integer", "number", "boolean"):
        problems.append(f"{where}: needs a single JSON type")


def _lint_rule(rule: Any, props: Mapping[str, Any]) -> list[str]:
    """Check one x-rule against :data:`RULE_KINDS` and the form's top-level properties."""
    if not isinstance(rule, dict):
        return ["a rule must be an object"]
    kind = rule.get("rule")
    if kind not in RULE_KINDS:
        return [f"unknown rule {kind!r}"]
    problems = [f"{kind}: missing {op!r}" for op in RULE_KINDS[kind] if op not in rule]
    if not _nonempty_str(rule.get("message")):
        problems.append(f"{kind}: needs a Chinese message")
    if problems:
        return problems

    def prop_type(name: Any) -> str | None:
        prop = props.get(name) if isinstance(name, str) else None
        if not isinstance(prop, dict):
            return None
        return "date" if prop.get("format") == "date" else prop.get("type")

    field_type = prop_type(rule["field"])
    if field_type is None:
        problems.append(f"{kind}: field {rule['field']!r} is not a property")
        return problems
    if kind in CASE_RULES or kind == "gb35181_registration":
        if kind == "min_items_in_case" and (field_type != "array" or not _is_int(rule["fallback"])):
            problems.append("min_items_in_case: needs an array field and an integer fallback")
        if kind == "majority_conclusion":
            fallback = rule["fallback"]
            if not (
                isinstance(fallback, list) and len(fallback) == 2 and all(map(_is_int, fallback))
            ):
                problems.append("majority_conclusion: fallback must be [numerator, denominator]")
            if prop_type(rule["votes"]) not in ("integer", "number"):
                problems.append(f"majority_conclusion: votes {rule['votes']!r} is not a number")
            if prop_type(rule["of"]) != "array":
                problems.append(f"majority_conclusion: of {rule['of']!r} is not an array")
        return problems
    if kind.startswith("date_"):
        if field_type != "date":
            problems.append(f"{kind}: field {rule['field']!r} is not a date property")
        if rule["other"] != TODAY and prop_type(rule["other"]) != "date":
            problems.append(f"{kind}: other {rule['other']!r} is not a date property or {TODAY}")
    else:
        if field_type not in ("integer", "number"):
            problems.append(f"{kind}: field {rule['field']!r} is not a number property")
        operand = rule["other"] if kind == "lte" else rule["of"]
        if prop_type(operand) not in ("integer", "number", "array"):
            problems.append(f"{kind}: {operand!r} is not a number or array property")
    if kind == "at_least_fraction":
        num, den = rule["numerator"], rule["denominator"]
        if not (_is_int(num) and _is_int(den) and 0 < num <= den):
            problems.append("at_least_fraction: needs integers 0 < numerator <= denominator")
    return problems


# --------------------------------------------------------------------------- options


def _load_gb35181() -> Any:
    """Return the GB 35181 catalogue (imported lazily: it reads data files on first use)."""
    from workflows.gb35181 import load_catalogue

    return load_catalogue()


def _labelled(ident: str, text: str) -> str:
    """Label a catalogue entry with its id unless its text already starts with it."""
    return text if text.startswith(ident) else f"{ident} {text}"


def _district_options() -> list[tuple[str, str]]:
    """Changde's county-level divisions as (code, Chinese name)."""
    return [(d.code, d.name) for d in DIVISIONS]


def _gb35181_element_options() -> list[tuple[str, str]]:
    """Judgement elements of every installed GB 35181 edition as (id, "clause text")."""
    from workflows.gb35181 import all_element_options

    return all_element_options()


def _gb35181_exclusion_options() -> list[tuple[str, str]]:
    """Whole-hazard exclusions of every installed GB 35181 edition as (id, "id text")."""
    from workflows.gb35181 import all_exclusion_options

    return all_exclusion_options()


def _gb35181_element_exclusion_options() -> list[tuple[str, str]]:
    """Reasons an element is not counted, of the editions that have them (none for 2017)."""
    from workflows.gb35181 import all_exclusion_options

    return all_exclusion_options(per_element=True)


def _gb35181_site_category_options() -> list[tuple[str, str]]:
    """Site categories of every installed edition (first label of each id)."""
    from workflows.gb35181 import installed_editions

    seen: dict[str, str] = {}
    for catalogue in installed_editions():
        for category in catalogue.site_categories:
            seen.setdefault(category.id, category.name)
    return list(seen.items())


def _campaign_area_options() -> list[tuple[str, str]]:
    """The campaign areas registration offers (bpmn/campaign_areas.json)."""
    from workflows.campaign_areas import options

    return options()


#: Option lists every caller gets; a caller's ``options`` of the same name take precedence.
BUILTIN_OPTIONS: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "districts": _district_options,
    "gb35181_elements": _gb35181_element_options,
    "gb35181_exclusions": _gb35181_exclusion_options,
    "gb35181_element_exclusions": _gb35181_element_exclusion_options,
    "gb35181_site_categories": _gb35181_site_category_options,
    "campaign_areas": _campaign_area_options,
}


def resolve_form(task_id: str, options: Options | None = None) -> dict[str, Any]:
    """Return a copy of a task's form with every ``x-options`` list turned into choices.

    Each schema carrying ``"x-options": name`` gains ``oneOf`` ``[{"const": value, "title":
    label}, ...]`` from ``options[name]`` or, failing that, the built-in list of that name. A
    name found in neither stays a plain (length-bounded) string. The ``x-options`` annotation
    is kept, so a UI still knows where the choices came from.

    :param task_id: the user task id.
    :param options: caller-supplied lists, e.g. ``{"agencies": [("fire_brigade:wuling",
        "武陵区消防救援大队"), ...]}``.
    :raises KeyError: no form exists for that task id.
    """
    schema = load_form(task_id)
    _fill_options(schema, options or {}, {})
    return schema


def _fill_options(
    node: Any, options: Options, resolved: dict[str, list[dict[str, str]] | None]
) -> None:
    """Add ``oneOf`` choices in place wherever ``x-options`` appears (lists resolved once)."""
    if isinstance(node, list):
        for item in node:
            _fill_options(item, options, resolved)
        return
    if not isinstance(node, dict):
        return
    name = node.get("x-options")
    if isinstance(name, str):
        if name not in resolved:
            resolved[name] = _choices(name, options)
        choices = resolved[name]
        if choices is not None:
            node.pop("enum", None)
            if choices:
                node["oneOf"] = copy.deepcopy(choices)
            else:
                # oneOf may not be empty; an empty list means that nothing can be chosen
                node.pop("oneOf", None)
                node["enum"] = []
    for value in node.values():
        _fill_options(value, options, resolved)


def _choices(name: str, options: Options) -> list[dict[str, str]] | None:
    """Return the ``oneOf`` choices of an option list, or None when nobody supplies it."""
    if name in options:
        pairs: Sequence[tuple[str, str]] = options[name]
    elif name in BUILTIN_OPTIONS:
        pairs = BUILTIN_OPTIONS[name]()
    else:
        return None
    return [{"const": str(value), "title": str(label)} for value, label in pairs]


# --------------------------------------------------------------------------- validation


def validate_form(
    task_id: str,
    data: Any,
    *,
    today: date,
    options: Options | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Validate a task's form data; return ``{}`` or ``{field_path: Chinese message}``.

    Field paths join the JSON path with dots (``experts``, ``participants.2.name``); errors
    about the data as a whole use :data:`FORM_ERROR_KEY`. One message per path: the first one
    found, type errors first. Bad data of any shape gives messages, never an exception.

    :param task_id: the user task id.
    :param data: the submitted form data (normally a dict parsed from JSON).
    :param today: the caller's date (Asia/Shanghai) for "not later than today" rules.
    :param options: caller-supplied option lists, as for :func:`resolve_form`.
    :param context: the case's workflow data, for the rules that read it (:data:`CASE_RULES`,
        e.g. the minimum numbers in force for the case); those rules are skipped without it.
    :raises KeyError: no form exists for that task id (a programming error, not bad data).
    """
    if isinstance(today, datetime):
        today = today.date()
    schema, validator = _compiled_form(task_id, options or {})
    if isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    if not isinstance(data, dict):
        return {FORM_ERROR_KEY: "表单数据必须是由字段和值组成的对象"}

    # Value checks first: they only look at values of the schema's own type, and say more
    # precisely what is wrong ("not a valid number" rather than "greater than the maximum").
    errors: dict[str, str] = {}
    for path, message in _check_values(schema, data):
        errors.setdefault(_path_key(path), message)
    try:
        schema_errors = list(validator.iter_errors(data))
    except RecursionError:
        return {FORM_ERROR_KEY: "表单数据的嵌套层次过深"}
    schema_errors.sort(key=_error_priority)
    for error in schema_errors:
        for path, message in _translate(error, schema):
            errors.setdefault(_path_key(path), message)

    for rule in schema.get("x-rules", []):
        if _rule_skipped(rule, errors):
            continue
        if rule["rule"] in CASE_RULES and context is None:
            continue
        if rule["rule"] == "gb35181_registration":
            from workflows.gb35181 import registration_errors

            for key, message in registration_errors(data).items():
                if not any(k == key or k.startswith(f"{key}.") for k in errors):
                    errors[key] = message
            continue
        rule_message = _check_rule(rule, data, today, context or {})
        if rule_message is not None:
            errors.setdefault(rule["field"], rule_message)
    return errors


def _rule_skipped(rule: Mapping[str, Any], errors: Mapping[str, str]) -> bool:
    """Whether a rule waits: its field, or a field it compares with, already has an error."""
    return rule["field"] in errors or any(
        isinstance(rule.get(op), str) and rule[op] in errors for op in ("other", "of")
    )


def case_rule_errors(
    task_id: str, data: Mapping[str, Any], *, today: date, context: Mapping[str, Any]
) -> dict[str, str]:
    """The errors of a form's rules that read the case (:data:`CASE_RULES`), alone: for data
    that :func:`validate_form` without a context accepted, ``validate_form`` with ``context``
    answers exactly these (a completion validates before it locks the case, then checks only
    these against the case's data under the lock)."""
    if isinstance(today, datetime):
        today = today.date()
    errors: dict[str, str] = {}
    for rule in _load_cached(_checked_task_id(task_id)).get("x-rules", []):
        if rule["rule"] not in CASE_RULES or _rule_skipped(rule, errors):
            continue
        message = _check_rule(rule, data, today, context)
        if message is not None:
            errors.setdefault(rule["field"], message)
    return errors


@cache
def _option_names(task_id: str) -> tuple[str, ...]:
    """The ``x-options`` lists a task's form names, sorted."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if isinstance(node.get("x-options"), str):
                names.add(node["x-options"])
            for value in node.values():
                walk(value)

    walk(_load_cached(_checked_task_id(task_id)))
    return tuple(sorted(names))


def _compiled_form(task_id: str, options: Options) -> tuple[dict[str, Any], Draft202012Validator]:
    """A task's resolved form and its validator, built once per form and per content of the
    caller's option lists it names (a list that changes, e.g. a new agency, builds anew).
    Both are shared: callers only read them."""
    supplied = tuple(
        (name, tuple((str(value), str(label)) for value, label in options[name]))
        for name in _option_names(task_id)
        if name in options
    )
    return _compile_form(task_id, supplied)


@lru_cache(maxsize=512)
def _compile_form(
    task_id: str, supplied: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
) -> tuple[dict[str, Any], Draft202012Validator]:
    schema = resolve_form(task_id, {name: list(pairs) for name, pairs in supplied})
    return schema, Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)


def _error_priority(error: ValidationError) -> tuple[int, int]:
    """Sort key: type errors first, then structural ones, then the rest; shallow before deep."""
    rank = {"type": 0, "required": 1, "additionalProperties": 1}.get(str(error.validator), 2)
    return rank, len(error.absolute_path)


def _path_key(path: JsonPath) -> str:
    """Join a JSON path with dots; the empty path is :data:`FORM_ERROR_KEY`."""
    return ".".join(str(part) for part in path) if path else FORM_ERROR_KEY


def _safe_key(key: object) -> str:
    """Render an unknown field name for a message: printable and short."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(key)[:_MAX_KEY_IN_MESSAGE])
    return text + ("…" if len(str(key)) > _MAX_KEY_IN_MESSAGE else "")


def _label(schema: Mapping[str, Any], path: JsonPath) -> str:
    """Return the Chinese label of a path, e.g. ``“参加人员”第3项的“姓名”``."""
    parts: list[str] = []
    node: Any = schema
    after_index = False
    for part in path:
        if isinstance(part, int):
            node = node.get("items") if isinstance(node, Mapping) else None
            parts.append(f"第{part + 1}项")
            after_index = True
            continue
        props = node.get("properties") if isinstance(node, Mapping) else None
        node = props.get(part) if isinstance(props, Mapping) else None
        title = node.get("title") if isinstance(node, Mapping) else None
        if after_index:
            parts.append("的")
        parts.append(f"“{title if isinstance(title, str) else _safe_key(part)}”")
        after_index = False
    return "".join(parts) or "表单"


def _number(value: Any) -> str:
    """Format a schema bound for a message (``100`` rather than ``100.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _translate(error: ValidationError, schema: Mapping[str, Any]) -> Iterator[tuple[JsonPath, str]]:
    """Turn one jsonschema error into ``(path, Chinese message)`` pairs."""
    path: JsonPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    custom = error.schema.get("x-messages", {}) if isinstance(error.schema, Mapping) else {}
    custom_message = custom.get(keyword) if isinstance(custom, Mapping) else None
    instance = error.instance

    if keyword == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                field = (*path, name)
                yield field, custom_message or f"{_label(schema, field)}为必填项"
        return
    if keyword == "additionalProperties" and isinstance(instance, dict):
        props = error.schema.get("properties", {})
        extras = [key for key in instance if key not in props]
        for key in extras[:_MAX_REPORTED_EXTRAS]:
            yield (*path, _safe_key(key)), f"不允许填写字段“{_safe_key(key)}”"
        if len(extras) > _MAX_REPORTED_EXTRAS:
            yield (), f"表单含有{len(extras)}个不允许的字段"
        return

    label = _label(schema, path)
    if custom_message:
        yield path, custom_message
        return
    value = error.validator_value
    if keyword == "type":
        wanted = value if isinstance(value, str) else "/".join(value)
        yield path, f"{label}应为{_TYPE_NAMES.get(wanted, wanted)}"
    elif keyword == "format":
        if value == "date":
            yield path, f"{label}不是有效日期"
        else:
            yield path, f"{label}格式不正确"
    elif keyword == "maxLength":
        yield path, f"{label}不能超过{value}个字"
    elif keyword == "minLength":
        yield path, f"{label}不能为空" if value == 1 else f"{label}至少需要{value}个字"
    elif keyword == "pattern":
        yield path, f"{label}格式不正确"
    elif keyword in ("minimum", "exclusiveMinimum"):
        word = "不能小于" if keyword == "minimum" else "应大于"
        yield path, f"{label}{word}{_number(value)}"
    elif keyword in ("maximum", "exclusiveMaximum"):
        word = "不能大于" if keyword == "maximum" else "应小于"
        yield path, f"{label}{word}{_number(value)}"
    elif keyword in ("oneOf", "anyOf", "enum", "const"):
        yield path, f"{label}不是可选的值"
    elif keyword == "minItems":
        yield path, f"{label}至少需要{value}项"
    elif keyword == "maxItems":
        yield path, f"{label}最多{value}项"
    elif keyword == "uniqueItems":
        yield path, f"{label}有重复的选项"
    else:
        yield path, f"{label}的值无效"


def _check_values(schema: Mapping[str, Any], data: Any) -> Iterator[tuple[JsonPath, str]]:
    """Check what JSON Schema cannot: forbidden characters, blank text, NaN and infinity.

    Only values of the type their schema asks for are checked: type errors are the schema's.

    The walk follows the schema, so unknown or mistyped parts of the data (already reported
    by the schema) are not descended into, whatever their depth.
    """
    for path, node, value in _leaves(schema, data, ()):
        kind = node.get("type")
        if isinstance(value, float) and kind in ("number", "integer"):
            if not math.isfinite(value):
                yield path, f"{_label(schema, path)}不是有效的数字"
        elif isinstance(value, str) and kind == "string":
            if len(value) > node.get("maxLength", len(value)):
                continue  # already reported as too long; not worth scanning
            multiline = node.get("x-widget") == "textarea"
            if _has_forbidden_chars(value, multiline):
                yield path, f"{_label(schema, path)}含有不允许的控制字符"
            elif node.get("format") == "date" and not _date_in_range(value):
                yield path, f"{_label(schema, path)}应在{DATE_MIN_YEAR}年至{DATE_MAX_YEAR}年之间"
            elif value and not value.strip() and node.get("minLength", 0) >= 1:
                yield path, f"{_label(schema, path)}不能为空"


def _leaves(
    node: Mapping[str, Any], value: Any, path: JsonPath
) -> Iterator[tuple[JsonPath, Mapping[str, Any], Any]]:
    """Yield ``(path, schema, value)`` for every scalar the schema describes."""
    if isinstance(value, dict):
        props = node.get("properties")
        if isinstance(props, Mapping):
            for name, sub in props.items():
                if name in value and isinstance(sub, Mapping):
                    yield from _leaves(sub, value[name], (*path, name))
    elif isinstance(value, list):
        items = node.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                yield from _leaves(items, item, (*path, index))
    else:
        yield path, node, value


def has_forbidden_chars(text: str, *, multiline: bool) -> bool:
    """Whether free text holds control characters, as form fields refuse them (``multiline``:
    newlines and tabs are allowed, as in a textarea)."""
    return _has_forbidden_chars(text, multiline)


def _date_in_range(text: str) -> bool:
    """False for an ISO date outside DATE_MIN_YEAR..DATE_MAX_YEAR (other text: the format
    check's business)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return True
    return DATE_MIN_YEAR <= day.year <= DATE_MAX_YEAR


def _has_forbidden_chars(text: str, multiline: bool) -> bool:
    """Whether text holds control characters (a textarea may hold newlines, CRLF and tabs)."""
    if multiline:
        text = text.replace("\r\n", "\n")
    for ch in text:
        if multiline and ch in "\n\t":
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return True
    return False


def _case_value(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of the case data (None when any step is missing)."""
    value: Any = context
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def with_case_minimums(schema: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` whose arrays carry, as ``minItems``, the minimum their
    ``min_items_in_case`` rule reads from the case data (or its fallback), so that a form page
    offers that many rows (e.g. seven experts for a panel of at least seven)."""
    result = dict(schema)
    properties = dict(result.get("properties", {}))
    for rule in result.get("x-rules", ()):
        if rule.get("rule") != "min_items_in_case" or rule["field"] not in properties:
            continue
        minimum = _case_value(context, rule["source"])
        if not _is_int(minimum):
            minimum = rule["fallback"]
        node = dict(properties[rule["field"]])
        node["minItems"] = max(int(node.get("minItems", 0)), int(minimum))
        properties[rule["field"]] = node
    result["properties"] = properties
    return result


def needs_case_data(schema: Mapping[str, Any]) -> bool:
    """Whether drawing the form needs the case data (a ``min_items_in_case`` rule)."""
    return any(rule.get("rule") == "min_items_in_case" for rule in schema.get("x-rules", ()))


def _check_case_rule(
    rule: Mapping[str, Any], data: Mapping[str, Any], context: Mapping[str, Any]
) -> str | None:
    """The rules of :data:`CASE_RULES` (see :data:`RULE_KINDS`)."""
    kind, message = rule["rule"], str(rule["message"])
    if kind == "min_items_in_case":
        minimum = _case_value(context, rule["source"])
        if not _is_int(minimum):
            minimum = rule["fallback"]
        items = data.get(rule["field"])
        if not isinstance(items, list) or len(items) >= minimum:
            return None
        return message.replace("{min}", str(minimum))
    if kind == "majority_conclusion":
        source = _case_value(context, rule["source"])
        num, den = rule["fallback"]
        if isinstance(source, Mapping):
            n, d = (
                source.get("expert_agreement_numerator"),
                source.get("expert_agreement_denominator"),
            )
            if isinstance(n, int) and isinstance(d, int) and _is_int(n) and _is_int(d):
                num, den = (n, d) if n > 0 and d > 0 else (num, den)
        votes, total = _as_number(data.get(rule["votes"])), _as_count(data.get(rule["of"]))
        conclusion = data.get(rule["field"])
        if votes is None or total is None or not isinstance(conclusion, str):
            return None
        reached = votes * den >= total * num
        if reached == (conclusion == rule["major_value"]):
            return None
        minimum = -(-int(total) * num // den)
        return (
            message.replace("{total}", _number(total))
            .replace("{min}", str(minimum))
            .replace("{votes}", _number(votes))
        )
    if kind == "required_when_case":
        listed = _case_value(context, rule["when"])
        if isinstance(listed, list) and rule["contains"] in listed:
            value = data.get(rule["field"])
            if value is None or value == "":
                return message
        return None
    # equals_when_case
    broken = rule["field"] in data and data.get(rule["field"]) != rule["value"]
    return message if broken and _case_value(context, rule["when"]) == rule["equals"] else None


def _check_rule(
    rule: Mapping[str, Any],
    data: Mapping[str, Any],
    today: date,
    context: Mapping[str, Any] | None = None,
) -> str | None:
    """Return the rule's message when the data break it; None when kept or not applicable.

    A rule whose operands are missing or of the wrong kind does not apply: the schema reports
    those problems itself.
    """
    kind = rule["rule"]
    if kind in CASE_RULES:
        return _check_case_rule(rule, data, context or {})
    if kind == "gb35181_registration":
        from workflows.gb35181 import registration_errors

        problems = registration_errors(data)
        return "；".join(problems.values()) if problems else None
    if kind.startswith("date_"):
        left = _as_date(data.get(rule["field"]))
        right = today if rule["other"] == TODAY else _as_date(data.get(rule["other"]))
        if left is None or right is None:
            return None
        broken = {
            "date_not_after": left > right,
            "date_not_before": left < right,
            "date_after": left <= right,
        }[kind]
        return str(rule["message"]) if broken else None
    value = _as_number(data.get(rule["field"]))
    if kind == "lte":
        bound = _as_count(data.get(rule["other"]))
        if value is None or bound is None:
            return None
        return str(rule["message"]) if value > bound else None
    # at_least_fraction: value/total ≥ numerator/denominator, in integers (no rounding errors)
    total = _as_count(data.get(rule["of"]))
    if value is None or total is None:
        return None
    num, den = int(rule["numerator"]), int(rule["denominator"])
    if value * den >= total * num:
        return None
    minimum = math.ceil(total * num / den) if isinstance(total, float) else -(-total * num // den)
    message = str(rule["message"])
    return message.replace("{total}", _number(total)).replace("{min}", _number(minimum))


def _as_date(value: Any) -> date | None:
    """Parse a ``YYYY-MM-DD`` string; None for anything else."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _as_number(value: Any) -> int | float | None:
    """Return a finite JSON number (not a boolean); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _as_count(value: Any) -> int | float | None:
    """A number operand, or the item count of an array operand."""
    return len(value) if isinstance(value, list) else _as_number(value)


def _is_int(value: Any) -> bool:
    """Whether value is an int and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _nonempty_str(value: Any) -> bool:
    """Whether value is a string with visible content."""
    return isinstance(value, str) and bool(value.strip())
