"""The demo's clock: every demo step runs at its own back-dated moment, in the order of time.

The demo cases (:mod:`server.demo`) and fires (:mod:`server.demo_fires`) put their actions — a
registration, a task completed, a task claimed — on one :class:`Timeline`; :meth:`Timeline.run`
performs them in the order of their moments, across all cases, with the process clock moved to
each moment (``time_machine.travel``). Everything the operations stamp then carries that moment:
events, task creation and completion, deadlines computed by the engine, documents' dates and
their numbers' years, notifications. Between two actions the timer sweep runs at the moment each
waiting timer comes due (the scheduler's next tick), so a missed deadline is recorded and
escalated when it was missed, and a step done in time meets its deadline.

Why the clock moves instead of an explicit ``now`` passed down: SpiffWorkflow decides whether a
timer is due by reading the wall clock itself (``TimerEventDefinition``), as do the processes'
own ``today()`` expressions and the forms' "not in the future" checks; a ``now`` parameter
cannot reach them without patching a third-party library. Moving the clock reaches every stamp
with one mechanism, the one the tests already use, and only the demo command (which refuses
production) does it.

Moments are deterministic: each is derived from the day the demo table names (days before
today) and the position of the action, never from the time of seeding — except that no action
lies in the future: steps of today are kept before the real present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from sqlalchemy import func, or_, select

from server.engine import get_engine
from server.extensions import db
from server.models import Case
from server.sweep import sweep
from workflows.calendar import SHANGHAI

#: The earliest and latest minute of a working day an officer acts at (08:30 to 17:30).
DAY_START = 8 * 60 + 30
DAY_LENGTH = 9 * 60
#: The scheduler's tick after a timer comes due.
TICK = timedelta(minutes=1)


@dataclass(order=True)
class Action:
    """One thing done at ``at`` (Asia/Shanghai aware); ``seq`` keeps equal moments in order."""

    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)
    what: str = field(compare=False, default="")


class Timeline:
    """The demo's actions in the order of time, and the clock that performs them."""

    def __init__(self, today: date, present: datetime | None = None) -> None:
        """:param today: the Asia/Shanghai day the demo is relative to; :param present: the
        real present (no action is placed after it)."""
        self.present = (present or datetime.now(UTC)).astimezone(SHANGHAI)
        # Before today's office hours have begun (Asia/Shanghai, e.g. just after midnight)
        # none of today's steps can have happened yet: the demo is relative to the day before,
        # so that its steps keep office hours and distinct moments in the past.
        opening = datetime.combine(today, time(DAY_START // 60, DAY_START % 60), SHANGHAI)
        self.today = (
            today
            if self.present >= opening + timedelta(minutes=10)
            else (today - timedelta(days=1))
        )
        self.calendar = get_engine().calendar
        self.actions: list[Action] = []
        self.sweeps = 0

    # --- days and moments ---------------------------------------------------------------------

    def workday(self, ago: int) -> date:
        """The ``ago``-th working day before today (0: today, or the last working day before it
        when today is a rest day); negative: the ``-ago``-th working day after today.

        The demo tables count in working days: officers sign on working days, and distinct
        counts give distinct days, so the order of the steps and of the dates they set (a
        correction period ends before the re-inspection) holds on whatever day the demo is
        seeded, holidays included.
        """
        step = timedelta(days=-1 if ago >= 0 else 1)
        day = self.today
        while not self.calendar.is_working_day(day):
            day += step
        for _ in range(abs(ago)):
            day += step
            while not self.calendar.is_working_day(day):
                day += step
        return day

    def ago_of(self, day: date) -> int:
        """How many working days ``day`` (a working day, not after today) lies before today:
        the inverse of :meth:`workday`."""
        count, current = 0, self.workday(0)
        while current > day:
            current = self.workday(count + 1)
            count += 1
        return count

    def shift(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself when it is one and n is 0)."""
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        for _ in range(n):
            day += timedelta(days=1)
            while not self.calendar.is_working_day(day):
                day += timedelta(days=1)
        return day

    def moment(self, day: date, key: int, after: datetime | None = None) -> datetime:
        """A working-hours moment of ``day`` chosen by ``key`` (deterministic); strictly after
        ``after`` (the case's previous action) and never after the real present."""
        minute = DAY_START + (key * 97 + 41) % DAY_LENGTH
        at = datetime.combine(day, time(minute // 60, minute % 60), SHANGHAI)
        if after is not None and at <= after:
            # the same day as the previous step: some minutes to an hour and a half later
            at = after + timedelta(minutes=12 + (key * 31) % 80)
        return self.not_future(at, after)

    def not_future(self, at: datetime, after: datetime | None = None) -> datetime:
        """``at``, or a moment just before the real present when ``at`` has not come yet."""
        latest = self.present - timedelta(minutes=10)
        if at > latest:
            at = max(latest, after + timedelta(seconds=30)) if after is not None else latest
        return at

    # --- running ------------------------------------------------------------------------------

    def add(self, at: datetime, run: Callable[[], None], what: str = "") -> None:
        """Do ``run`` at the moment ``at``."""
        self.actions.append(Action(at, len(self.actions), run, what))

    def run(self) -> None:
        """Perform every action at its moment, sweeping due timers in between, then sweep up to
        the present."""
        for action in sorted(self.actions):
            self.sweep_until(action.at)
            with time_machine.travel(action.at, tick=False):
                action.run()
        self.sweep_until(self.present)

    def sweep_until(self, until: datetime) -> None:
        """Run the timer sweep at each moment a waiting timer comes due, up to ``until``."""
        until = until.astimezone(UTC)  # SQLite compares the stored UTC digits as text
        while True:
            due = db.session.scalar(
                select(func.min(Case.next_timer_at)).where(
                    Case.status == "open",
                    Case.needs_attention.is_(None),
                    or_(Case.sweep_until.is_(None), Case.sweep_until <= until),
                )
            )
            if due is None:
                return
            due = due.replace(tzinfo=UTC) if due.tzinfo is None else due
            if due > until:
                return
            at = min(due + TICK, until)
            with time_machine.travel(at, tick=False):
                result = sweep(at)
            self.sweeps += 1
            if result["failed"] or not result["cases"]:
                raise RuntimeError(f"演示数据：{at.isoformat()} 的定时扫描失败（{result}）")
