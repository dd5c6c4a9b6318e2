"""Drive a case (major hazard or fire accountability) through the engine as officers would,
with a moving clock.

Every step validates the form data against ``forms/`` and round-trips the workflow through its
stored state, so every path test also exercises serialisation at every wait state.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from workflows.calendar import SHANGHAI
from workflows.engine import Engine, Escalation, Instance, StepResult
from workflows.forms import validate_form

from . import fire_accountability, major_hazard

CASE = {"discoverer_agency": "street:wuling:nanping", "district": "wuling"}
SAMPLES = {"major_hazard": major_hazard.sample, "fire_accountability": fire_accountability.sample}


def at(day: date, hour: int = 10) -> datetime:
    """Return ``day`` at ``hour`` o'clock Asia/Shanghai."""
    return datetime.combine(day, time(hour), SHANGHAI)


class CaseDriver:
    """One case, with the clock (a time-machine traveller) moved as the case advances."""

    def __init__(
        self,
        engine: Engine,
        clock,
        day: date,
        case: dict | None = None,
        process: str = "major_hazard",
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.process = process
        self.clock.move_to(at(day))
        self.instance: Instance = engine.start(process, case or CASE, settings)
        self.escalations: list[Escalation] = []
        self.results: list[StepResult] = []
        self.roundtrip()

    def roundtrip(self) -> None:
        """Store and reload the state, as a request or a sweep would."""
        state = self.instance.dumps()
        self.instance = self.engine.load(self.process, self.instance.version, state)

    def ready(self) -> list[str]:
        """BPMN ids of the tasks waiting for a person, sorted."""
        return sorted(t.name for t in self.instance.ready_tasks())

    def _record(self, result: StepResult) -> StepResult:
        self.results.append(result)
        self.escalations.extend(result.escalations)
        self.roundtrip()
        return result

    def do(self, task: str, day: date, **overrides: Any) -> StepResult:
        """Complete the ready task ``task`` on ``day`` with valid sample data."""
        self.clock.move_to(at(day))
        data = SAMPLES[self.process](task, day, **overrides)
        errors = validate_form(task, data, today=day, context=self.instance.data)
        assert errors == {}, errors
        matches = [t for t in self.instance.ready_tasks() if t.name == task]
        assert matches, f"{task} is not ready; ready: {self.ready()}"
        return self._record(self.instance.complete(matches[0].id, data))

    def sweep(self, moment: datetime | date) -> StepResult:
        """Move the clock and fire due timers, as the scheduler sweep does."""
        self.clock.move_to(
            at(moment) if isinstance(moment, date) and not isinstance(moment, datetime) else moment
        )
        return self._record(self.instance.fire_timers())

    def codes(self) -> list[str]:
        """The escalation codes thrown so far, in order."""
        return [e.code for e in self.escalations]

    def timers(self) -> dict[str, str]:
        """Waiting timers as {timer id: due ISO}."""
        return {t.timer: t.due.isoformat() for t in self.instance.waiting_timers()}
