"""Display helpers for the HTML pages: Chinese dates and deadline badges.

Stored datetimes are UTC; SQLite hands them back naive, so a naive datetime is read as UTC.
Everything is shown in Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from workflows import campaign_areas
from workflows.calendar import SHANGHAI, WorkingCalendar
from workflows.jurisdiction import division_name

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

CASE_STATUS_LABELS = {"open": "办理中", "closed": "已办结"}

DEADLINE_STATE_LABELS = {"pending": "未到期", "met": "已按期办结", "missed": "已逾期"}

EVENT_LABELS = {
    "case_opened": "立案登记",
    "task_completed": "办理",
    "task_claimed": "认领",
    "task_released": "退回",
    "task_reassigned": "转办",
    "task_rerouted": "改由他单位办理",
    "deadline_missed": "超期",
    "escalation": "督办升级",
    "timer_fired": "定时器触发",
    "attachment_added": "上传附件",
    "document_issued": "生成文书",
    "document_voided": "更正文书（原文书作废）",
    "document_printed": "打印文书",
    "case_closed": "办结",
    "follow_up": "督办措施",
    "case_reclassified": "修改隐患分类",
    "deadlines_recomputed": "期限重算",
    "calendar_changed": "节假日调整",
    "dossier_printed": "打印案卷",
    "warning_published": "发布预警",
    "process_milestone": "流程节点",
}

#: The navigation label of registering a case of each process.
START_LABELS = {"major_hazard": "登记隐患", "fire_accountability": "登记火灾"}


def utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; a naive one (from SQLite) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_shanghai(value: Any) -> datetime | date | None:
    """Turn a datetime (naive = UTC), a date or an ISO string into Shanghai time or a date."""
    if isinstance(value, datetime):
        return _shanghai(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return None
        if isinstance(value, datetime):
            return _shanghai(value)
    if isinstance(value, date):
        return value
    return None


def _shanghai(value: datetime) -> datetime:
    """A datetime (naive = UTC) in Asia/Shanghai: one conversion (the pages show a few hundred
    dates, so the date helpers below convert once and format the fields themselves)."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(SHANGHAI)


def _ymd(moment: date) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日（{WEEKDAYS[moment.weekday()]}）"


def cn_date(value: Any) -> str:
    """``2026年10月9日（星期五）``; the input itself (as text) when it is not a date."""
    moment = to_shanghai(value)
    if moment is None:
        return "" if value is None else str(value)
    return _ymd(moment)


def cn_datetime(value: Any) -> str:
    """``2026年10月9日（星期五）14:05`` (Asia/Shanghai)."""
    moment = to_shanghai(value)
    if not isinstance(moment, datetime):
        return cn_date(value)
    return f"{_ymd(moment)}{moment.hour:02d}:{moment.minute:02d}"


def cn_short_datetime(value: Any, this_year: int | None = None) -> str:
    """``12月9日 14:05`` (Asia/Shanghai), with the year when it is not the current one
    (``this_year``, else read from the clock)."""
    moment = to_shanghai(value)
    if not isinstance(moment, datetime):
        return cn_date(value)
    if this_year is None:
        this_year = datetime.now(SHANGHAI).year
    year = "" if moment.year == this_year else f"{moment.year}年"
    return f"{year}{moment.month}月{moment.day}日 {moment.hour:02d}:{moment.minute:02d}"


def escape_text(value: Any) -> str:
    """``value`` escaped for HTML exactly as :func:`markupsafe.escape` (and so Jinja's
    autoescape) escapes it, as a plain ``str``: for markup written in Python, where building a
    ``Markup`` object per value cost more than the escaping (~0.4 µs against ~0.15 µs). A
    value that is already markup (``__html__``) is not escaped again."""
    if not isinstance(value, str):
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    elif hasattr(value, "__html__"):  # Markup
        return str(value)
    return (
        value.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


@dataclass(frozen=True)
class Badge:
    """A status badge: text always carries the meaning; ``kind`` only picks the colour."""

    text: str
    kind: str  # overdue, soon, ok, closed, neutral, attention
    title: str = ""


def overdue_badge(
    due: datetime | None,
    *,
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
    done: bool = False,
) -> Badge:
    """The badge of a task or deadline due at ``due``.

    逾期N个工作日 (red) when ``due`` has passed, 即将到期 (amber) when it is due soon
    (:func:`server.due.is_due_soon`), 剩余N个工作日 otherwise, 无期限 without a due date,
    已办结 (grey) when ``done``.
    """
    if done:
        return Badge("已办结", "closed")
    if due is None:
        return Badge("无期限", "neutral")
    from server.due import is_due_soon

    if calendar is None:
        from server.engine import get_engine

        calendar = get_engine().calendar
    now_utc = utc(now or datetime.now(UTC))
    due_utc = utc(due)
    title = f"截止 {cn_datetime(due_utc)}"
    if now_utc > due_utc:
        late = calendar.working_days_between(due_utc, now_utc)
        return Badge(f"逾期{late}个工作日" if late else "已逾期", "overdue", title)
    left = calendar.working_days_between(now_utc, due_utc)
    if is_due_soon(due_utc, now_utc, calendar):
        return Badge(f"即将到期，剩余{left}个工作日" if left else "今日到期", "soon", title)
    return Badge(f"剩余{left}个工作日", "ok", title)


def case_status_badge(status: str, needs_attention: str | None = None) -> Badge:
    """The badge of a case's status."""
    if needs_attention:
        return Badge("待管理员处理", "attention", needs_attention[:200])
    label = CASE_STATUS_LABELS.get(status, status)
    return Badge(label, "closed" if status == "closed" else "open")


def district_name(code: str | None) -> str:
    """The Chinese name of a division code."""
    return division_name(code) if code else ""


def event_label(kind: str) -> str:
    """The Chinese name of an audit event kind."""
    return EVENT_LABELS.get(kind, kind)


def campaign_area_name(code: str | None) -> str:
    """The Chinese name of a campaign area code (专项整治领域), or 未分类."""
    if not code:
        return "未分类"
    return campaign_areas.names().get(code, code)


def init_app(app: Any) -> None:
    """Register the Jinja filters and globals."""
    app.jinja_env.filters.update(
        cn_date=cn_date,
        cn_datetime=cn_datetime,
        cn_short_datetime=cn_short_datetime,
        district_name=district_name,
        campaign_area_name=campaign_area_name,
        event_label=event_label,
    )
    from server.form_render import shown_html

    app.jinja_env.globals.update(
        overdue_badge=overdue_badge, case_status_badge=case_status_badge, shown_html=shown_html
    )
