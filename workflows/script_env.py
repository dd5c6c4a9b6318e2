"""The script environment: the only names BPMN and DMN expressions may use.

SpiffWorkflow evaluates gateway conditions, timer expressions, script tasks and DMN cells with
Python's ``eval``/``exec``. Left alone that is the whole language, builtins included. Here every
expression is parsed first and rejected unless it stays inside a small subset (no imports, no
lambdas, no dunder or private attributes, only whitelisted methods), and it runs with a
builtins table of a few pure functions plus the deadline helpers. Form data only ever reaches
expressions as values, never as code.
"""

from __future__ import annotations

import ast
import contextvars
import copy
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway

from workflows import gb35181
from workflows.calendar import SHANGHAI, Deadline, WorkingCalendar, parse_moment

#: The key of the top workflow's data that holds the case's shared facts.
FACTS = "facts"
#: What a timer reads for a shared fact no branch has published yet: a deadline can be set
#: before the branch that records e.g. appraisal periods has run its first step.
FACT_DEFAULTS: dict[str, Any] = {"appraisal_periods": []}


class UnsafeExpression(ValueError):
    """An expression or script uses a construct outside the whitelisted subset."""


SAFE_BUILTINS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "any": any,
    "all": all,
    "sum": sum,
    "sorted": sorted,
    "set": set,
    "list": list,
    "dict": dict,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "abs": abs,
    "round": round,
    "True": True,
    "False": False,
    "None": None,
}

# Methods on data values (dicts, lists, strings) that read or build values and cannot reach
# interpreter internals. ``format`` is absent on purpose: format strings can walk attributes.
SAFE_METHODS = frozenset(
    {
        "get", "keys", "values", "items", "append", "extend", "count", "index",
        "strip", "split", "join", "startswith", "endswith", "lower", "upper", "replace",
        "isoformat", "date",
    }
)  # fmt: skip

_FORBIDDEN_NODES = (
    ast.Import,
    ast.ImportFrom,
    ast.Lambda,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Global,
    ast.Nonlocal,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Raise,
    ast.Delete,
    ast.While,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.NamedExpr,
)


def check_source(source: str, mode: str) -> None:
    """Raise :class:`UnsafeExpression` unless ``source`` stays inside the allowed subset.

    :param source: the expression or script text.
    :param mode: ``"eval"`` for expressions, ``"exec"`` for scripts.
    """
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeExpression(f"syntax error: {exc.msg}") from exc
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            raise UnsafeExpression(f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Attribute) and node.attr not in SAFE_METHODS:
            raise UnsafeExpression(f"attribute '{node.attr}' is not allowed")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"name '{node.id}' is not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            raise UnsafeExpression("bytes literals are not allowed")


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str):
    check_source(source, mode)
    return compile(source, "<string>", mode)


# Set while one expression is evaluated; day helpers flag a provisional result into it.
_provisional_flag: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "duban_provisional", default=None
)


def _month_start(month: Any) -> date:
    """The first day of a month given as "YYYY-MM"; ValueError when it is not one."""
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        raise ValueError(f"not a month (YYYY-MM): {month!r}")
    year, mon = month[:4], month[5:]
    if not (year.isascii() and year.isdigit() and mon.isascii() and mon.isdigit()):
        raise ValueError(f"not a month (YYYY-MM): {month!r}")
    return date(int(year), int(mon), 1)


def _date_in_year(year: Any, month: Any, day: Any) -> date:
    """``month``/``day`` of ``year``, the month's last day when ``day`` is past it."""
    values = (year, month, day)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise ValueError(f"year, month and day must be integers: {values!r}")
    if not 1 <= month <= 12 or day < 1:
        raise ValueError(f"not a day of the year: {month}-{day}")
    following = date(year + (month == 12), month % 12 + 1, 1)
    return min(date(year, month, 1) + timedelta(days=day - 1), following - timedelta(days=1))


class Helpers:
    """The deadline and data helpers exposed to expressions, bound to one calendar."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        """:param calendar: the working-day calendar deadlines are counted in."""
        self.calendar = calendar

    def _note(self, deadline: Deadline) -> str:
        flag = _provisional_flag.get()
        if flag is not None and deadline.provisional:
            flag.append(True)
        return deadline.iso()

    def working_days_after(self, start: Any, n: int) -> str:
        """Return the end of the n-th working day after ``start`` (start day not counted)."""
        return self._note(self.calendar.working_days_after(start, n))

    def calendar_days_after(self, start: Any, n: int) -> str:
        """Return the end of the n-th calendar day after ``start``, moved off rest days."""
        return self._note(self.calendar.calendar_days_after(start, n))

    def months_after(self, start: Any, n: int) -> str:
        """Return the end of the period of ``n`` months from ``start`` (民法典 §201–§203)."""
        return self._note(self.calendar.months_after(start, n))

    def hours_after(self, start: Any, n: float) -> str:
        """Return ``start`` plus ``n`` hours as an ISO datetime."""
        return self._note(self.calendar.hours_after(start, n))

    def working_day_of_month(self, month: Any, n: int) -> str:
        """Return the end of the n-th working day of the calendar month ``month`` ("YYYY-MM").

        The monthly report's deadline (附件8, "每月报市消安委办公室"; the day is administrator
        data): e.g. the 5th working day of December 2026. Holidays and make-up working days
        (调休) count as the calendar says; a month whose year has no schedule yet gives a
        provisional deadline.
        """
        first = _month_start(month)
        return self._note(self.calendar.working_days_after(first - timedelta(days=1), n))

    def day_of_year(self, year: Any, month: int, day: int) -> str:
        """Return the end of ``month``/``day`` of ``year``, moved to the next working day when
        it is a rest day (民法典 第二百零三条); a day past the month's end is its last day.

        The annual report's deadline ("每年12月10日前 … 报市安委会办公室和市消安委办公室").
        """
        when = _date_in_year(year, month, day)
        return self._note(self.calendar.calendar_days_after(when - timedelta(days=1), 1))

    @staticmethod
    def next_month(month: Any) -> str:
        """Return the month after ``month`` ("2026-12" → "2027-01")."""
        first = _month_start(month)
        following = (first + timedelta(days=32)).replace(day=1)
        return f"{following.year:04d}-{following.month:02d}"

    @staticmethod
    def end_of_day(value: Any) -> str:
        """Return 23:59:59 Asia/Shanghai of the day of ``value`` as an ISO datetime."""
        moment = parse_moment(value)
        return moment.replace(hour=23, minute=59, second=59, microsecond=0).isoformat()

    @staticmethod
    def days_after_unmoved(start: Any, n: int) -> str:
        """Return the end of the n-th calendar day after ``start``, NOT moved off rest days.

        For periods that bound which facts count rather than limit when an act is due, e.g. the
        7 days within which a change in a fire's casualties is reported again (国务院令第493号
        第十三条 “自发生之日起7日内”): a holiday does not stretch what happened in them.
        """
        day = parse_moment(start).date() + timedelta(days=int(n))
        return Helpers.end_of_day(day.isoformat())

    @staticmethod
    def today() -> str:
        """Return today's date in Asia/Shanghai as ``YYYY-MM-DD``."""
        return datetime.now(SHANGHAI).date().isoformat()

    @staticmethod
    def now() -> str:
        """Return the current Asia/Shanghai time as an ISO datetime."""
        return datetime.now(SHANGHAI).replace(microsecond=0).isoformat()

    @staticmethod
    def days_covered(periods: Any) -> int:
        """Return how many calendar days the periods ``[{"from", "to"}, ...]`` cover together.

        Both ends count; days covered by several periods count once (two appraisals running at
        the same time stop one investigation clock, not two). Used for the testing and
        appraisal time that is not counted in a fire investigation's period (《火灾事故调查规定》
        第十八条: 检验、鉴定时间不计入调查期限).
        """
        days: set[Any] = set()
        for period in periods or ():
            start = parse_moment(period["from"]).date()
            end = parse_moment(period["to"]).date()
            days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
        return len(days)

    @staticmethod
    def has_any(values: Any, *wanted: Any) -> bool:
        """Return True when ``values`` (a list) contains any of ``wanted``."""
        return any(item in (values or ()) for item in wanted)

    def globals(self) -> dict[str, Callable[..., Any]]:
        """Return the helper table handed to expressions."""
        return {
            "working_days_after": self.working_days_after,
            "calendar_days_after": self.calendar_days_after,
            "months_after": self.months_after,
            "hours_after": self.hours_after,
            "end_of_day": self.end_of_day,
            "working_day_of_month": self.working_day_of_month,
            "day_of_year": self.day_of_year,
            "next_month": self.next_month,
            "days_after_unmoved": self.days_after_unmoved,
            "today": self.today,
            "now": self.now,
            "has_any": self.has_any,
            "days_covered": self.days_covered,
            "count_elements": gb35181.count_elements,
            "list_elements": gb35181.list_elements,
            "judge_hazard": gb35181.judge_registration,
        }


# ``defined(name)`` is bound to the task data of each evaluation (see RestrictedEnvironment).
DATA_HELPER = "defined"

HELPER_NAMES = frozenset(Helpers(WorkingCalendar()).globals()) | {DATA_HELPER}


def _defined_in(context: Mapping[str, Any]) -> Callable[[str], bool]:
    """Return ``defined(name)``: True when the task data holds ``name``.

    A path that joins branches can ask which branch it came through, e.g. whether the fire
    rescue agency inspected the site (``defined("file_case")``); a bare name that is not in
    the data would raise instead.
    """

    def defined(name: str) -> bool:
        return isinstance(name, str) and name in context and not name.startswith("_")

    return defined


class RestrictedEnvironment(TaskDataEnvironment):
    """A task-data environment that runs only checked code with restricted builtins."""

    def __init__(self, helpers: Helpers) -> None:
        """:param helpers: the helper table bound to the current calendar."""
        self.helpers = helpers
        super().__init__({"__builtins__": SAFE_BUILTINS, **helpers.globals()})

    def set_calendar(self, calendar: WorkingCalendar) -> None:
        """Count later deadlines in ``calendar`` (e.g. after an administrator adds a year)."""
        self.helpers.calendar = calendar

    def evaluate(self, expression, context, external_context=None):
        """Evaluate a checked expression against task data."""
        code = _compile(expression, "eval")
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        scope[DATA_HELPER] = _defined_in(context)
        scope["__builtins__"] = SAFE_BUILTINS
        return eval(code, scope)  # noqa: S307 - checked by check_source, restricted builtins

    def execute(self, script, context, external_context=None):
        """Execute a checked script; assignments land in the task data."""
        code = _compile(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        data_keys = frozenset(k for k in context if not k.startswith("_"))
        context.update(self.globals)
        context.update(external_context or {})
        context[DATA_HELPER] = lambda name: isinstance(name, str) and name in data_keys
        context["__builtins__"] = SAFE_BUILTINS
        try:
            exec(code, context)  # noqa: S102 - checked by check_source, restricted builtins
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


class DubanScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine over :class:`RestrictedEnvironment`.

    When a timer expression produces a provisional deadline (a year without calendar data),
    the timer task is marked ``deadline_provisional`` so that deadline extraction can say so
    and the deadline can be recomputed once the year is entered.
    """

    def __init__(self, calendar: WorkingCalendar | None = None) -> None:
        """:param calendar: the working-day calendar; statutory data only when omitted."""
        self.restricted = RestrictedEnvironment(Helpers(calendar or WorkingCalendar()))
        super().__init__(environment=self.restricted)

    @property
    def calendar(self) -> WorkingCalendar:
        """The calendar deadlines are counted in."""
        return self.restricted.helpers.calendar

    def set_calendar(self, calendar: WorkingCalendar) -> None:
        """Switch to another calendar for deadlines computed from now on."""
        self.restricted.set_calendar(calendar)

    def validate(self, expression: str) -> None:
        """Parse-check an expression (SpiffWorkflow's DMN engine calls this)."""
        ast.parse(expression)

    def evaluate(self, task, expression, external_context: Mapping | None = None):
        """Evaluate ``expression`` for ``task``, recording provisional timer deadlines.

        A timer reads the case's shared facts as they are now (see :func:`workflows.timers.
        shared_facts`), not as its branch last saw them; so does an exclusive gateway, and the
        branch goes on with them: e.g. whether a fire's warning is reported to the province is
        decided on its casualties as amended in the parallel amendment branch, not as they were
        when the warning branch was forked (国务院令第493号 第十三条).
        """
        event_definition = getattr(task.task_spec, "event_definition", None)
        is_timer_task = isinstance(event_definition, TimerEventDefinition)
        if is_timer_task or isinstance(task.task_spec, ExclusiveGateway):
            facts = task.workflow.top_workflow.data.get(FACTS, {})
            for name, default in FACT_DEFAULTS.items():
                if name not in task.data and name not in facts:
                    task.data[name] = copy.deepcopy(default)
            task.data.update(copy.deepcopy(facts))
        flag: list[bool] = []
        token = _provisional_flag.set(flag)
        try:
            result = super().evaluate(task, expression, external_context)
        finally:
            _provisional_flag.reset(token)
        if is_timer_task:
            task._set_internal_data(deadline_provisional=bool(flag))
        return result
