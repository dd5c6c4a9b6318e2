"""HTML forms from the JSON Schemas in ``forms/``, and typed data from what browsers submit.

:func:`build_form` turns a resolved schema (see :func:`workflows.forms.resolve_form`), the
values to show and the field errors of :func:`workflows.forms.validate_form` into a
:class:`FormView`; the ``_form.html`` macros draw it. :func:`parse_form` turns the submitted
strings back into JSON values without validating them: validation is the operation's job, so
a value that does not parse is passed on as the string it was, and the validator names it.

Field names in the HTML are the validator's paths: ``unit_name``, ``elements`` (one value per
ticked box), ``participants.2.name`` (row 3 of an array of objects). Errors therefore land
next to the field they are about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from workflows.forms import FORM_ERROR_KEY

#: Blank rows offered for arrays of objects, on top of what the law requires.
SPARE_ROWS = 2
#: Rows a click on 增加一行 adds.
ADD_ROWS = 3
#: Row indexes beyond this are ignored on submit (no form allows that many rows).
MAX_ROW_INDEX = 500
#: Checkbox lists longer than this are drawn in a scrollable, grouped box.
LONG_LIST = 12

_MISSING = object()
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass
class Choice:
    """One option of a select, radio group or checkbox list."""

    value: str
    label: str
    selected: bool = False


@dataclass
class ChoiceGroup:
    """Options under a common heading (the heading is None for an ungrouped list)."""

    label: str | None
    choices: list[Choice]


@dataclass
class Field:
    """One field of a form, ready to draw.

    ``widget`` is one of ``text``, ``textarea``, ``date``, ``integer``, ``number``,
    ``boolean`` (radio 是/否), ``radio``, ``select``, ``checkboxes``, ``rows`` (an array
    of objects: ``columns`` describe the row fields, ``rows`` hold them) or ``files`` (photos
    and scans sent with the form, not part of its data).
    """

    path: str
    label: str
    help: str
    widget: str
    required: bool = False
    value: str = ""
    error: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    groups: list[ChoiceGroup] = field(default_factory=list)
    columns: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    row_errors: dict[int, str] = field(default_factory=dict)
    min_items: int = 0
    max_items: int | None = None
    read_only: bool = False
    """Filled by the system on submission (``readOnly``, e.g. a document number)."""

    @property
    def id(self) -> str:
        """The HTML id of the input (or of the fieldset for grouped widgets)."""
        return "f-" + self.path.replace(".", "-")

    @property
    def has_error(self) -> bool:
        """Whether the field, one of its rows or one of its row fields carries an error."""
        return _field_has_error(self)

    @property
    def input_type(self) -> str:
        """The ``type`` of an ``<input>``; text when the value would not survive the browser's
        own date or number parsing (so the user sees what was wrong)."""
        if self.widget == "date":
            return "date" if not self.value or _is_iso_date(self.value) else "text"
        if self.widget in ("integer", "number"):
            return "number" if not self.value or _NUMBER.fullmatch(self.value) else "text"
        return "text"

    @property
    def long_list(self) -> bool:
        """Whether a checkbox list is long enough to be scrolled."""
        return sum(len(g.choices) for g in self.groups) > LONG_LIST

    @property
    def can_add_rows(self) -> bool:
        """Whether more rows may be offered."""
        return self.max_items is None or len(self.rows) < self.max_items

    @property
    def error_id(self) -> str:
        """The id of the error message (for ``aria-describedby``)."""
        return self.id + "-error"

    @property
    def help_id(self) -> str:
        """The id of the help text (for ``aria-describedby``)."""
        return self.id + "-help"


@dataclass
class FormView:
    """A form to draw: its title, help, fields and the errors that belong to no field."""

    title: str
    description: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """Whether any error is shown."""
        return bool(self.errors) or any(_field_has_error(f) for f in self.fields)

    @property
    def error_count(self) -> int:
        """How many fields (and form-level messages) carry errors."""
        return len(self.errors) + sum(_field_error_count(f) for f in self.fields)


def _is_iso_date(text: str) -> bool:
    """Whether text is a real ``YYYY-MM-DD`` date."""
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _field_has_error(item: Field) -> bool:
    """Whether a field or any of its rows carries an error."""
    return _field_error_count(item) > 0


def _field_error_count(item: Field) -> int:
    """The errors shown on a field, its rows and its row fields."""
    count = 1 if item.error else 0
    count += len(item.row_errors)
    for row in item.rows:
        count += sum(1 for cell in row if cell.error)
    return count


# --------------------------------------------------------------------------- building


def _order(node: Mapping[str, Any]) -> list[str]:
    """Property names in display order (``x-order``, else declaration order)."""
    props = node.get("properties", {})
    order = node.get("x-order")
    return list(order) if isinstance(order, list) else list(props)


def _choices(node: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, title) pairs of an enum schema (``oneOf`` const/title or plain ``enum``)."""
    if isinstance(node.get("oneOf"), list):
        return [
            (option["const"], str(option.get("title", option["const"])))
            for option in node["oneOf"]
            if isinstance(option, Mapping) and "const" in option
        ]
    if isinstance(node.get("enum"), list):
        return [(value, str(value)) for value in node["enum"]]
    return []


def _is_enum(node: Mapping[str, Any]) -> bool:
    """Whether a schema offers a fixed set of choices."""
    return "oneOf" in node or "enum" in node


def _as_text(value: Any) -> str:
    """A value as an input shows it."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    return str(value)


def _element_groups(choices: list[Choice]) -> list[ChoiceGroup]:
    """Group GB 35181 elements by the section of the standard they belong to."""
    from workflows.gb35181 import load_catalogue

    catalogue = load_catalogue()
    sections = catalogue.sections
    section_of = {e.id: e.section for e in catalogue.elements}
    groups: list[ChoiceGroup] = []
    for choice in choices:
        section = section_of.get(choice.value, "")
        title = sections.get(section)
        heading = f"{'第6章' if section == '6' else section} {title}" if title else "其他"
        if not groups or groups[-1].label != heading:
            groups.append(ChoiceGroup(heading, []))
        groups[-1].choices.append(choice)
    return groups


#: Option lists drawn in groups: x-options name → grouping function.
GROUPERS = {"gb35181_elements": _element_groups}


def _scalar_field(
    node: Mapping[str, Any], path: str, value: Any, required: bool, label: str | None = None
) -> Field:
    """A field for a string, number, boolean or enum value."""
    kind = node.get("type")
    widget_hint = node.get("x-widget")
    item = Field(
        path=path,
        label=label or str(node.get("title", path)),
        help=str(node.get("description", "")),
        widget="text",
        required=required,
        value=_as_text(value),
        max_length=node.get("maxLength") if isinstance(node.get("maxLength"), int) else None,
        read_only=node.get("readOnly") is True,
    )
    if kind == "boolean":
        titles = dict(_choices(node))
        item.widget = "boolean"
        item.groups = [
            ChoiceGroup(
                None,
                [
                    Choice("true", titles.get(True, "是"), value is True),
                    Choice("false", titles.get(False, "否"), value is False),
                ],
            )
        ]
    elif _is_enum(node):
        item.widget = "radio" if widget_hint == "radio" else "select"
        item.groups = [
            ChoiceGroup(None, [Choice(_as_text(v), t, v == value) for v, t in _choices(node)])
        ]
    elif kind in ("integer", "number"):
        item.widget = kind
        item.minimum = node.get("minimum")
        item.maximum = node.get("maximum")
    elif node.get("format") == "date":
        item.widget = "date"
    elif widget_hint == "textarea":
        item.widget = "textarea"
    return item


def _field(node: Mapping[str, Any], path: str, value: Any, required: bool) -> Field:
    """A field for any property of a form."""
    if node.get("type") != "array":
        return _scalar_field(node, path, value, required)
    items = node.get("items", {})
    base = Field(
        path=path,
        label=str(node.get("title", path)),
        help=str(node.get("description", "")),
        widget="checkboxes",
        # a list that may stay empty is not marked required, even when the key must be sent
        required=required and int(node.get("minItems", 0)) > 0,
        min_items=int(node.get("minItems", 0)),
        max_items=node.get("maxItems") if isinstance(node.get("maxItems"), int) else None,
    )
    if items.get("type") == "object":
        base.widget = "rows"
        return base
    chosen = {_as_text(v) for v in value} if isinstance(value, list) else set()
    choices = [Choice(_as_text(v), t, _as_text(v) in chosen) for v, t in _choices(items)]
    grouper = GROUPERS.get(str(items.get("x-options", "")))
    base.groups = grouper(choices) if grouper else [ChoiceGroup(None, choices)]
    return base


def _fill_rows(item: Field, node: Mapping[str, Any], value: Any, extra: int) -> None:
    """Add the columns and rows (filled ones, then blanks) of an array of objects."""
    items = node.get("items", {})
    required = set(items.get("required", []))
    props = items.get("properties", {})
    names = _order(items)
    item.columns = [
        _scalar_field(props[name], f"{item.path}.N.{name}", None, name in required)
        for name in names
    ]
    filled = (
        [row if isinstance(row, Mapping) else {} for row in value]
        if isinstance(value, list)
        else []
    )
    total = max(max(item.min_items, 3) + SPARE_ROWS, len(filled) + SPARE_ROWS) + extra
    if item.max_items is not None:
        total = max(min(total, item.max_items), len(filled))
    for index in range(total):
        row = filled[index] if index < len(filled) else {}
        item.rows.append(
            [
                _scalar_field(
                    props[name],
                    f"{item.path}.{index}.{name}",
                    row.get(name),
                    name in required,
                    label=str(props[name].get("title", name)),
                )
                for name in names
            ]
        )


def build_form(
    schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    extra_rows: Mapping[str, int] | None = None,
    more_fields: Iterable[Field] = (),
) -> FormView:
    """Describe a form for drawing.

    :param schema: a resolved form schema (``oneOf`` choices filled in).
    :param values: the values to show (typed JSON, as :func:`parse_form` returns them).
    :param errors: ``{path: Chinese message}`` from the validator.
    :param extra_rows: ``{array field: n}``: offer n more blank rows (the 增加一行 button).
    :param more_fields: fields the page adds after the schema's (the reason for lateness, the
        files sent with the form); errors on their paths land on them.
    """
    values = values or {}
    required = set(schema.get("required", []))
    props = schema.get("properties", {})
    fields: list[Field] = []
    for name in _order(schema):
        node = props[name]
        item = _field(node, name, values.get(name), name in required)
        if item.widget == "rows":
            _fill_rows(item, node, values.get(name), (extra_rows or {}).get(name, 0))
        fields.append(item)
    fields.extend(more_fields)
    view = FormView(
        title=str(schema.get("title", "")),
        description=str(schema.get("description", "")),
        fields=fields,
    )
    _place_errors(view, errors or {})
    return view


def _place_errors(view: FormView, errors: Mapping[str, str]) -> None:
    """Attach each error to its field, to the nearest enclosing field, or to the form."""
    targets: dict[str, tuple[Field, int | None]] = {}
    for item in view.fields:
        targets[item.path] = (item, None)
        for index, row in enumerate(item.rows):
            targets[f"{item.path}.{index}"] = (item, index)
            for cell in row:
                targets[cell.path] = (cell, None)
    for key, message in errors.items():
        if key == FORM_ERROR_KEY:
            view.errors.append(message)
            continue
        parts = key.split(".")
        while parts and ".".join(parts) not in targets:
            parts.pop()
        if not parts:
            view.errors.append(message)
            continue
        target, row_index = targets[".".join(parts)]
        if row_index is not None:
            previous = target.row_errors.get(row_index)
            target.row_errors[row_index] = f"{previous}；{message}" if previous else message
        elif target.error and message not in target.error:
            target.error = f"{target.error}；{message}"
        else:
            target.error = target.error or message


# --------------------------------------------------------------------------- parsing


def _parse_scalar(node: Mapping[str, Any], raw: str | None) -> Any:
    """One submitted string as a JSON value; ``_MISSING`` when left empty."""
    if raw is None:
        return _MISSING
    kind = node.get("type")
    if kind == "string" and node.get("x-widget") == "textarea":
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = raw.strip()
    if not text:
        return _MISSING
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("integer", "number"):
        return _parse_number(text, kind)
    if kind == "string":
        return text
    # enums of other types: match a choice by its text form
    for value, _title in _choices(node):
        if _as_text(value) == text:
            return value
    return text


def _parse_number(text: str, kind: str) -> Any:
    """An int (or, for ``number``, a float); the text itself when it is not a finite number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if kind == "integer":
        return int(number) if number.is_integer() else text
    return number


def _row_indexes(form: MultiDict[str, str], name: str) -> list[int]:
    """The row numbers submitted for an array of objects, sorted."""
    pattern = re.compile(rf"{re.escape(name)}\.([0-9]{{1,4}})\.")
    found = {int(m.group(1)) for key in form if (m := pattern.match(key))}
    return sorted(i for i in found if i <= MAX_ROW_INDEX)


def _parse_array(node: Mapping[str, Any], name: str, form: MultiDict[str, str]) -> list[Any]:
    """The items submitted for an array: ticked boxes, or non-blank rows."""
    items = node.get("items", {})
    if items.get("type") == "object":
        props = items.get("properties", {})
        rows: list[dict[str, Any]] = []
        for index in _row_indexes(form, name):
            row = {}
            for sub in _order(items):
                value = _parse_scalar(props[sub], form.get(f"{name}.{index}.{sub}"))
                if value is not _MISSING:
                    row[sub] = value
            if row:  # blank rows are the spare ones
                rows.append(row)
        return rows
    values = []
    for raw in form.getlist(name):
        value = _parse_scalar(items, raw)
        if value is not _MISSING:
            values.append(value)
    return values


def parse_form(schema: Mapping[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """Turn submitted strings into the JSON the schema describes, without validating.

    Integers, numbers and booleans are converted; a value that does not convert stays the
    submitted string, so the validator reports it. Empty optional fields and blank rows are
    left out; an array the form requires is always present (possibly empty), so the message
    says how many items it needs.
    """
    required = set(schema.get("required", []))
    props = schema.get("properties", {})
    data: dict[str, Any] = {}
    for name in _order(schema):
        node = props[name]
        if node.get("readOnly") is True:
            continue  # filled by the system on submission
        if node.get("type") == "array":
            values = _parse_array(node, name, form)
            if values or name in required:
                data[name] = values
            continue
        value = _parse_scalar(node, form.get(name))
        if value is not _MISSING:
            data[name] = value
    return data


# --------------------------------------------------------------------------- showing data


@dataclass(frozen=True)
class Shown:
    """A value of submitted form data under its Chinese label."""

    label: str
    values: list[str]


def shown_html(items: list[Shown]) -> Markup:
    """The ``shown_values`` macro's markup (``_form.html``) for ``items``, written here: the case
    page shows every completed step's form (tens of values each), and through Jinja a value cost
    several times more. Escaped as autoescape escapes (:func:`server.display.escape_text`)."""
    from server.display import escape_text as esc

    out = ['\n<dl class="form-data">']
    for item in items:
        values = item.values
        if len(values) == 1:
            shown = esc(values[0])
        else:
            shown = "<ul>" + "".join(f"<li>{esc(v)}</li>" for v in values) + "</ul>"
        out.append(
            f'\n  <div class="form-data-row">\n    <dt>{esc(item.label)}</dt>'
            f"\n    <dd>{shown}</dd>\n  </div>"
        )
    out.append("\n</dl>\n")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped


def _show_scalar(node: Mapping[str, Any], value: Any) -> str:
    """One stored value as the page shows it."""
    from server.display import cn_date

    if isinstance(value, bool):
        return "是" if value else "否"
    titles = {_as_text(v): t for v, t in _choices(node)}
    if titles and _as_text(value) in titles:
        return titles[_as_text(value)]
    if node.get("format") == "date" and isinstance(value, str):
        return cn_date(value)
    if isinstance(value, Mapping | list):
        return "、".join(
            _as_text(v) for v in (value.values() if isinstance(value, Mapping) else value)
        )
    return _as_text(value)


def describe(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[Shown]:
    """Submitted data under the form's labels: choices by their titles, booleans 是/否,
    dates in Chinese, rows of an array of objects one per line. Keys the form does not know
    (an older version) are shown under their own names."""
    props = (schema or {}).get("properties", {})
    order = [name for name in _order(schema or {}) if name in data]
    order += [name for name in data if name not in order]
    shown: list[Shown] = []
    for name in order:
        node = props.get(name, {})
        value = data[name]
        label = str(node.get("title", name))
        if isinstance(value, list):
            items = node.get("items", {})
            if items.get("type") == "object":
                sub = items.get("properties", {})
                lines = []
                for row in value:
                    if isinstance(row, Mapping):
                        cells = [
                            _show_scalar(sub.get(k, {}), row[k]) for k in _order(items) if k in row
                        ]
                        cells += [_as_text(v) for k, v in row.items() if k not in sub]
                        lines.append("，".join(c for c in cells if c))
                    else:
                        lines.append(_as_text(row))
                shown.append(Shown(label, lines or ["（无）"]))
            else:
                shown.append(Shown(label, [_show_scalar(items, v) for v in value] or ["（无）"]))
        else:
            shown.append(Shown(label, [_show_scalar(node, value)]))
    return shown


def field_paths(view: FormView) -> Iterable[str]:
    """Every input name of a drawn form (for tests and debugging)."""
    for item in view.fields:
        if item.widget == "rows":
            for row in item.rows:
                yield from (cell.path for cell in row)
        else:
            yield item.path
