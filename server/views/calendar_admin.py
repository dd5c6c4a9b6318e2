"""Holiday calendar administration: a year as a month grid, entering a year's schedule, and the
administrators' banner when a coming year has no schedule but deadlines already fall in it.

A year without the State Council's schedule shows the holidays computed from 《全国年节及纪念日
放假办法》 (``workflows.statutory_holidays``), so the administrator sees what the provisional
deadlines assume (docs/calendar.md).

Saving goes through :func:`server.operations.save_calendar_year`, which recomputes the
provisional deadlines of open cases.
"""

from __future__ import annotations

import calendar as month_calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from server import operations, reads
from server.auth import roles_required
from server.display import WEEKDAYS, cn_date
from server.engine import get_engine
from server.models import CalendarYear, Case, Deadline, User
from server.parsing import positive_int
from server.views.common import admin_banner
from workflows.calendar import SHANGHAI, WorkingCalendar

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")
MIN_YEAR, MAX_YEAR = 2000, 2100  # as the calendar API
SOURCE_LABELS = {
    "statutory": "法定安排（系统内置）",
    "admin": "管理员录入",
    "computed": "按放假办法推算（暂定，调休未知）",
    "none": "尚无数据（仅按周末计算）",
}
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_DAY = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
MAX_TEXT = 8000
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --------------------------------------------------------------------------- the banner


@dataclass(frozen=True)
class CalendarWarning:
    """A year without holiday data in which pending deadlines of open cases fall."""

    year: int
    deadlines: int


def missing_calendar_year(today: date | None = None) -> CalendarWarning | None:
    """This or next year (Asia/Shanghai) if it has no State Council schedule (its holidays are
    at most computed from the 放假办法) while pending deadlines of open cases fall in it (or are
    provisional); None when all is well.

    This year counts too: on 1 January an unentered year must not drop out of sight.
    """
    today = today or operations.today_shanghai()
    calendar = get_engine().calendar
    for year in (today.year, today.year + 1):
        if calendar.has_data(year):
            continue
        start = datetime(year, 1, 1, tzinfo=SHANGHAI)
        end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
        count = reads.scalar(
            select(func.count(Deadline.id))
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Deadline.state == "pending",
                Case.status == "open",
                or_(
                    and_(Deadline.due_at >= start, Deadline.due_at < end),
                    Deadline.provisional.is_(True),
                ),
            )
        )
        if count:
            return CalendarWarning(year, int(count))
    return None


@bp.app_context_processor
def calendar_banner_context() -> dict[str, Any]:
    """``calendar_warning`` for administrators (one count query), None for everyone else."""

    def warning() -> CalendarWarning | None:
        if request.endpoint == "calendar_admin.show":  # the page says it itself
            return None
        return missing_calendar_year()

    return admin_banner("calendar_warning", None, warning)


# --------------------------------------------------------------------------- the month grid


MARK_WORDS = {"休": "节假日休息", "班": "调休上班"}


def next_mark(day: date, mark: str) -> str:
    """The mark a click on the day gives: 休 after nothing; on a weekend 班 after 休 (make-up
    working days fall on weekends), nothing after that; on a weekday nothing after 休."""
    if not mark:
        return "休"
    if mark == "休" and day.weekday() >= 5:
        return "班"
    return ""


@dataclass(frozen=True)
class Day:
    """One cell of a month grid."""

    day: date
    weekend: bool
    mark: str  # 休 (holiday), 班 (make-up working day) or ""
    builtin: str | None = None  # the built-in schedule's mark where an administrator's differs

    def _words(self, mark: str) -> str:
        return MARK_WORDS.get(mark) or ("休息" if self.weekend else "工作日")

    @property
    def description(self) -> str:
        """What the day is, in words (the cell's tooltip and screen-reader text)."""
        text = f"{WEEKDAYS[self.day.weekday()]}，{self._words(self.mark)}"
        if self.builtin is not None:
            text += f"（管理员调整；系统内置安排为{self._words(self.builtin)}）"
        return text

    @property
    def next_mark(self) -> str:
        """The mark a click gives (:func:`next_mark`)."""
        return next_mark(self.day, self.mark)

    @property
    def action(self) -> str:
        """What a click does, in words (the day button's accessible name)."""
        target = self.next_mark
        words = MARK_WORDS.get(target) or ("普通周末" if self.weekend else "工作日")
        return f"{self.day.month}月{self.day.day}日 {self.description}。点击设为{words}"


@dataclass(frozen=True)
class Month:
    """A month: its number and its weeks, Monday first (None outside the month)."""

    number: int
    weeks: list[list[Day | None]]
    holidays: int
    workdays: int


def month_grid(
    year: int,
    holidays: set[str],
    workdays: set[str],
    builtin: tuple[set[str], set[str]] | None = None,
) -> list[Month]:
    """The twelve months of ``year`` with holidays (休) and make-up working days (班) marked.

    :param builtin: the built-in schedule's holidays and make-up days, when an administrator's
        entry replaces it: the days where they differ carry the built-in mark.
    """
    grid = month_calendar.Calendar(firstweekday=0)
    months = []
    for number in range(1, 13):
        weeks: list[list[Day | None]] = []
        counts = {"休": 0, "班": 0}
        for week in grid.monthdatescalendar(year, number):
            cells: list[Day | None] = []
            for day in week:
                if day.month != number:
                    cells.append(None)
                    continue
                iso = day.isoformat()
                mark = "休" if iso in holidays else "班" if iso in workdays else ""
                if mark:
                    counts[mark] += 1
                original = None
                if builtin is not None:
                    original = "休" if iso in builtin[0] else "班" if iso in builtin[1] else ""
                    original = None if original == mark else original
                cells.append(Day(day, day.weekday() >= 5, mark, original))
            weeks.append(cells)
        months.append(Month(number, weeks, counts["休"], counts["班"]))
    return months


# --------------------------------------------------------------------------- the form


def parse_dates(text: str, year: int, what: str) -> tuple[list[str], str | None]:
    """ISO dates from a textarea (one per line, or separated by commas), or an error message.

    Accepts ``2027-01-01``, ``2027/1/1`` and ``2027年1月1日``.
    """
    if len(text) > MAX_TEXT:
        return [], f"{what}内容过长（不超过{MAX_TEXT}个字符）"
    days: list[str] = []
    bad: list[str] = []
    other_year: list[str] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        match = _DAY.fullmatch(token)
        try:
            day = date(*(int(g) for g in match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            bad.append(token[:20])
        elif day.year != year:
            other_year.append(day.isoformat())
        else:
            days.append(day.isoformat())
    if bad:
        return [], f"{what}中有无法识别的日期：{'、'.join(bad[:5])}。请按“2027-01-01”的格式填写"
    if other_year:
        return [], f"{what}中有不属于{year}年的日期：{'、'.join(other_year[:5])}"
    return sorted(set(days)), None


def read_year_form(form: Any, year: int) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The submitted holidays and make-up working days, and errors by field."""
    errors: dict[str, str] = {}
    holidays, error = parse_dates(form.get("holidays", ""), year, "节假日")
    if error:
        errors["holidays"] = error
    elif not holidays:
        errors["holidays"] = "请至少填写一个节假日（元旦、春节、国庆等放假日期）"
    workdays, error = parse_dates(form.get("workdays", ""), year, "调休上班日")
    if error:
        errors["workdays"] = error
    else:
        weekdays = [d for d in workdays if date.fromisoformat(d).weekday() < 5]
        both = sorted(set(holidays) & set(workdays))
        if weekdays:
            listed = "、".join(
                f"{d}（{WEEKDAYS[date.fromisoformat(d).weekday()]}）" for d in weekdays[:5]
            )
            errors["workdays"] = f"调休上班日应是星期六或星期日，以下日期不是：{listed}"
        elif both:
            errors["workdays"] = f"同一天不能既是节假日又是调休上班日：{'、'.join(both[:5])}"
    return {"holidays": holidays, "workdays": workdays}, errors


# --------------------------------------------------------------------------- views


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        abort(404)


def _render(
    year: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    summary = get_engine().calendar.year_summary(year)
    holidays = set(cast(list[str], summary["holidays"]))
    workdays = set(cast(list[str], summary["workdays"]))
    builtin_summary = WorkingCalendar().year_summary(year)  # without the administrator's entry
    builtin = None
    if summary["source"] == "admin":
        builtin = (
            set(cast(list[str], builtin_summary["holidays"])),
            set(cast(list[str], builtin_summary["workdays"])),
        )
    months = month_grid(year, holidays, workdays, builtin)
    row = reads.get(CalendarYear, year)
    editor = reads.get(User, row.updated_by_id) if row and row.updated_by_id else None
    if values is None:
        values = {"holidays": "\n".join(sorted(holidays)), "workdays": "\n".join(sorted(workdays))}
    entered = reads.scalars(select(CalendarYear.year).order_by(CalendarYear.year)).all()
    computed = [
        {
            "name": f["name"],
            "days": "、".join(cn_date(d) for d in f["days"]),
            "makeup": "、".join(cn_date(d) for d in f["makeup"]),
            "basis": f["basis"],
        }
        for f in summary["computed_holidays"]  # type: ignore[attr-defined]
    ]
    return render_template(
        "calendar/show.html",
        year=year,
        source=summary["source"],
        source_label=SOURCE_LABELS[str(summary["source"])],
        computed_holidays=computed,
        row=row,
        editor=editor,
        months=months,
        builtin_source_label=SOURCE_LABELS[str(builtin_summary["source"])],
        overrides=sum(1 for m in months for w in m.weeks for d in w if d and d.builtin is not None),
        holiday_count=len(holidays),
        workday_count=len(workdays),
        values=values,
        errors=errors or {},
        entered_years=entered,
        min_year=MIN_YEAR,
        max_year=MAX_YEAR,
        warning=missing_calendar_year(),
        weekdays=WEEKDAYS,
    ), status


@bp.route("")
@roles_required("admin")
def index() -> Any:
    """This year's calendar, or the year asked for with ``?year=``."""
    value = request.args.get("year", "")
    year = operations.today_shanghai().year
    if value:
        try:
            year = positive_int(value, MAX_YEAR, minimum=MIN_YEAR)
        except ValueError:
            flash(f"年份应在{MIN_YEAR}年至{MAX_YEAR}年之间", "error")
    return redirect(url_for("calendar_admin.show", year=year))


@bp.route("/<int:year>", methods=["GET", "POST"])
@roles_required("admin")
def show(year: int) -> Any:
    """A year's month grid and schedule form (GET); save the schedule (POST)."""
    _check_year(year)
    if request.method == "GET":
        return _render(year)
    if "toggle" in request.form:
        return _toggle(year, request.form.get("toggle", ""))
    texts = {k: request.form.get(k, "")[: MAX_TEXT + 1] for k in ("holidays", "workdays")}
    entry, errors = read_year_form(request.form, year)
    if errors:
        return _render(year, texts, errors, 422)
    return _save(year, texts, entry)


def _save(
    year: int,
    texts: dict[str, str],
    entry: dict[str, list[str]],
    changed: str | None = None,
    anchor: str = "#h-grid",
) -> Any:
    try:
        result = operations.save_calendar_year(current_user, year, entry)
    except operations.FormInvalid as exc:
        return _render(year, texts, {"_form": exc.message}, 422)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("calendar_admin.show", year=year), code=303)
    done = f"已将{changed}。" if changed else ""
    flash(
        f"{done}已保存{year}年节假日安排（节假日{len(entry['holidays'])}天，调休上班"
        f"{len(entry['workdays'])}天）；重新计算了{result['cases']}个案件的"
        f"{result['deadlines']}个暂定期限。",
        "success",
    )
    return redirect(url_for("calendar_admin.show", year=year) + anchor, code=303)


def _toggle(year: int, value: str) -> Any:
    """One click on a day of the grid (without JavaScript): the day's next mark, applied to
    the year in force now and saved like a whole year."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or day.year != year or not ISO_DAY.fullmatch(value):
        return _render(year, None, {"_form": "请在日历上点击本年度的日期"}, 422)
    summary = get_engine().calendar.year_summary(year)
    holidays = set(cast(list[str], summary["holidays"]))
    workdays = set(cast(list[str], summary["workdays"]))
    iso = day.isoformat()
    mark = "休" if iso in holidays else "班" if iso in workdays else ""
    target = next_mark(day, mark)
    holidays.discard(iso)
    workdays.discard(iso)
    {"休": holidays, "班": workdays}.get(target, set()).add(iso)
    texts = {"holidays": "\n".join(sorted(holidays)), "workdays": "\n".join(sorted(workdays))}
    entry, errors = read_year_form(texts, year)
    if errors:
        return _render(year, None, errors, 422)
    words = MARK_WORDS.get(target) or ("普通周末" if day.weekday() >= 5 else "工作日")
    return _save(year, texts, entry, f"{day.month}月{day.day}日设为{words}", f"#m{day.month}")
