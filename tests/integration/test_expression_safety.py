"""Form data is data: code, template syntax and SQL typed into every free-text field of every
form a case reaches are stored as plain strings, shown escaped, and never run."""

from __future__ import annotations

import html
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.engine import get_engine
from server.extensions import db
from server.models import Case, Event, Task, User
from server.operations import form_options
from server.report_cases import generate, previous_month
from tests.integration.conftest import Auth
from tests.integration.test_web import login, post_form, ready_task, today
from tests.support import fire_accountability, reports
from tests.support.major_hazard import sample
from workflows import script_env
from workflows.forms import all_task_ids, resolve_form


def payloads(marker: Path) -> list[str]:
    return [
        f"__import__('os').system('touch {marker}')",
        "{{7*7}}",
        "${7*7}",
        '"; DROP TABLE case; --',
        "<script>alert(1)</script>",
        "{{ config.SECRET_KEY }}",
        "#{7*7} %(x)s {0.__class__}",
    ]


def free_text(prop: dict[str, Any]) -> bool:
    """A string field that takes any text (no choice, date, number format or pattern)."""
    return prop.get("type") == "string" and not (
        {"enum", "format", "pattern", "x-options", "const", "oneOf", "anyOf"} & set(prop)
    )


class Poisoner:
    """Replaces every free-text value of form data with a payload, remembering what it put."""

    def __init__(self, marker: Path) -> None:
        self.payloads = payloads(marker)
        self.used: dict[str, dict[str, str]] = {}  # task -> {json path: payload}
        self.count = 0

    def _pick(self, prop: dict[str, Any]) -> str:
        self.count += 1
        longest = prop.get("maxLength", 10_000)
        fitting = [p for p in self.payloads if len(p) <= longest] or ["{{7*7}}"]
        return fitting[self.count % len(fitting)]

    def poison(self, task: str, schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        used = self.used[task] = {}  # this completion's fields (a refusal has fewer)
        for name, prop in schema.get("properties", {}).items():
            if name not in out:
                continue
            if free_text(prop):
                out[name] = used[name] = self._pick(prop)
            elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "object":
                rows = []
                for index, row in enumerate(out[name]):
                    row = dict(row)
                    for sub, sub_prop in prop["items"].get("properties", {}).items():
                        if sub in row and free_text(sub_prop):
                            row[sub] = used[f"{name}.{index}.{sub}"] = self._pick(sub_prop)
                    rows.append(row)
                out[name] = rows
        return out


def errors(page: str) -> list[str]:
    """The field errors shown on a form page."""
    return re.findall(r'class="error"[^>]*>(.*?)</p>', page, re.S)


def officer_of(app: Flask, case_id: int, name: str) -> str:
    """A user of the agency the ready task ``name`` belongs to."""
    with app.app_context():
        task = db.session.scalar(
            select(Task).where(Task.case_id == case_id, Task.name == name, Task.state == "ready")
        )
        users = db.session.scalars(select(User).where(User.agency_id == task.agency_id))
        return next(u.username for u in users if u.has_role("officer"))


def do(app: Flask, client: FlaskClient, auth: Auth, poisoner: Poisoner, case_id: int | None,
       name: str, **overrides: Any) -> int:  # fmt: skip
    """Complete ``name`` (or register, when case_id is None) through the HTML form, poisoned."""
    with app.app_context():
        schema = resolve_form(name, form_options())
    try:
        data = sample(name, today(), **overrides)
    except KeyError:
        try:
            data = fire_accountability.sample(name, today(), **overrides)
        except KeyError:
            data = {**reports.sample(name, today()), **overrides}
    data = poisoner.poison(name, schema, data)
    if case_id is None:
        fire = name == "register_fire"
        login(client, auth, "wuling.fire" if fire else "wuling.nanping")
        response = post_form(client, "/cases/new?process=" + ("fire_accountability" if fire
                             else "major_hazard"), data)  # fmt: skip
        assert response.status_code == 302, re.findall(
            r"class=\"error\"[^>]*>(.*?)</p>", response.text, re.S
        )
        return int(response.headers["Location"].rsplit("/", 1)[1])
    login(client, auth, officer_of(app, case_id, name))
    response = post_form(client, f"/tasks/{ready_task(app, case_id, name)}", data)
    assert response.status_code == 302, (
        name,
        re.findall(r"class=\"error\"[^>]*>(.*?)</p>", response.text, re.S),
    )
    return case_id


def check_stored_and_shown(app: Flask, client: FlaskClient, auth: Auth, case_id: int,
                           poisoner: Poisoner) -> None:  # fmt: skip
    with app.app_context():
        completed = db.session.scalars(
            select(Event).where(Event.case_id == case_id, Event.kind == "task_completed")
        ).all()
        for event in completed:
            form = event.data["form"]
            for path, payload in poisoner.used.get(event.task_name, {}).items():
                value: Any = form
                for part in path.split("."):
                    value = value[int(part)] if part.isdigit() else value[part]
                assert value == payload and type(value) is str, (event.task_name, path)
        assert db.session.scalar(select(func.count(Case.id))) >= 1  # no table was dropped
    login(client, auth, "wuling.supervisor")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    with app.app_context():
        tasks = set(db.session.scalars(select(Event.task_name).where(Event.case_id == case_id)))
    if any("<script>" in p for t in tasks for p in poisoner.used.get(t, {}).values()):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    shown = html.unescape(page.text)
    missing = [(t, f) for t in tasks for f, p in poisoner.used.get(t, {}).items() if p not in shown]
    assert not missing
    assert "a-test-secret" not in shown  # {{ config.SECRET_KEY }} was not rendered


def test_code_in_every_form_field_is_stored_as_text(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path, time_machine
):
    app.config["SECRET_KEY"] = "a-test-secret"
    marker = tmp_path / "pwned"
    poisoner = Poisoner(marker)
    builtins_before = dict(script_env.SAFE_BUILTINS)
    with app.app_context():
        env_before = set(get_engine().script_engine.restricted.globals)
    environ_before = dict(os.environ)

    # The longest listed path: expert review, temporary sealing, a failed re-inspection.
    listed = do(app, client, auth, poisoner, None, "register_hazard")
    do(app, client, auth, poisoner, listed, "refer_to_fire_rescue")
    do(app, client, auth, poisoner, listed, "file_case", technically_complex=True,
       sealing="collective")  # fmt: skip
    do(app, client, auth, poisoner, listed, "temporary_sealing")
    do(app, client, auth, poisoner, listed, "expert_review")
    do(app, client, auth, poisoner, listed, "collective_deliberation")
    do(app, client, auth, poisoner, listed, "serve_rectification_notice")
    do(app, client, auth, poisoner, listed, "report_to_government")
    do(app, client, auth, poisoner, listed, "government_decision")
    for name in ("sealing_in_force", "lifting_check", "lifting_decision"):
        do(app, client, auth, poisoner, listed, name)
    rectify_by = today() + timedelta(days=3)
    do(app, client, auth, poisoner, listed, "set_rectification_plan",
       supervising_agency="street:wuling:nanping", rectify_by=rectify_by.isoformat())  # fmt: skip
    # The rectification deadline passes: the overdue measures task appears after the sweep.
    time_machine.move_to(next_timer(app, listed) + timedelta(hours=1), tick=False)
    assert client.application.test_cli_runner().invoke(args=["sweep"]).exit_code == 0
    do(app, client, auth, poisoner, listed, "rectification_overdue_measures")
    do(app, client, auth, poisoner, listed, "report_rectification_progress",
       percent=100, completed=True)  # fmt: skip
    do(app, client, auth, poisoner, listed, "reinspection")
    do(app, client, auth, poisoner, listed, "request_closure")
    do(app, client, auth, poisoner, listed, "close_case")
    check_stored_and_shown(app, client, auth, listed, poisoner)

    # The government disagrees: the brigade enforces.
    disagreed = do(app, client, auth, poisoner, None, "register_hazard")
    for name in ("refer_to_fire_rescue", "file_case", "collective_deliberation",
                 "serve_rectification_notice", "report_to_government"):  # fmt: skip
        do(app, client, auth, poisoner, disagreed, name)
    do(app, client, auth, poisoner, disagreed, "government_decision", decision="disagree")
    do(app, client, auth, poisoner, disagreed, "enforce_by_fire_rescue")
    check_stored_and_shown(app, client, auth, disagreed, poisoner)

    # An ordinary hazard (found while GB 35181-2017 was in force, so the street's "not major"
    # verdict stands): order to correct, re-inspection.
    ordinary = do(app, client, auth, poisoner, None, "register_hazard", found_on="2025-10-20",
                  site_categories=["other"], elements=["7.4.1"])  # fmt: skip
    for name in ("order_correction", "await_reinspection_request", "ordinary_reinspection"):
        do(app, client, auth, poisoner, ordinary, name)
    check_stored_and_shown(app, client, auth, ordinary, poisoner)

    # A 较大 fire: extension, leadership investigation, review and re-determination, a warning
    # reported to the province, credit punishment; then a fire handled by simple procedure.
    fire = do(app, client, auth, poisoner, None, "register_fire", district="wuling", deaths=3)
    do(app, client, auth, poisoner, fire, "amend_casualties", deaths=3)
    do(app, client, auth, poisoner, fire, "record_appraisal")
    for name in ("responsibility_investigation", "leadership_investigation"):
        do(app, client, auth, poisoner, fire, name)
    do(app, client, auth, poisoner, fire, "cause_investigation", outcome="request_extension")
    for name in ("approve_extension", "cause_determination_extended", "serve_determination",
                 "review_request", "review_acceptance"):  # fmt: skip
        do(app, client, auth, poisoner, fire, name)
    do(app, client, auth, poisoner, fire, "review_decision", outcome="redetermine")
    for name in ("re_determination", "publish_warning", "report_warning_to_province",
                 *fire_accountability.CREDIT_TASKS, "notification_evaluation"):  # fmt: skip
        do(app, client, auth, poisoner, fire, name)
    check_stored_and_shown(app, client, auth, fire, poisoner)
    simple = do(app, client, auth, poisoner, None, "register_fire", district="wuling",
                site_type="residence", direct_loss=30000)  # fmt: skip
    do(app, client, auth, poisoner, simple, "simplified_determination")
    do(app, client, auth, poisoner, simple, "publish_warning")
    check_stored_and_shown(app, client, auth, simple, poisoner)

    # Sealed on the spot; a month on the hazard is not eliminated (the sealing continues).
    sealed = do(app, client, auth, poisoner, None, "register_hazard")
    do(app, client, auth, poisoner, sealed, "refer_to_fire_rescue")
    do(app, client, auth, poisoner, sealed, "file_case", sealing="emergency",
       sealed_on=today().isoformat(), sealed_time="00:00")  # fmt: skip
    do(app, client, auth, poisoner, sealed, "emergency_sealing_decision")
    time_machine.move_to(next_timer(app, sealed) + timedelta(days=40), tick=False)
    do(app, client, auth, poisoner, sealed, "sealing_in_force", event="not_eliminated")
    do(app, client, auth, poisoner, sealed, "sealing_continued")
    check_stored_and_shown(app, client, auth, sealed, poisoner)

    # An ordinary hazard unrectified at the deadline: referred to the brigade and penalised.
    late = do(app, client, auth, poisoner, None, "register_hazard", found_on="2025-10-20",
              site_categories=["other"], elements=["7.4.1"])  # fmt: skip
    do(app, client, auth, poisoner, late, "order_correction")
    time_machine.move_to(next_timer(app, late) + timedelta(hours=1), tick=False)
    assert client.application.test_cli_runner().invoke(args=["sweep"]).exit_code == 0
    do(app, client, auth, poisoner, late, "ordinary_reinspection", result="fail")
    do(app, client, auth, poisoner, late, "refer_unrectified")
    do(app, client, auth, poisoner, late, "ordinary_penalty")
    check_stored_and_shown(app, client, auth, late, poisoner)

    # The reports: a monthly report returned and resubmitted, then an annual report.
    for kind, period in (("monthly", previous_month(today())), ("annual", str(today().year))):
        with app.app_context():
            report = next(r for r in generate(kind, period) if r.agency.division == "wuling")
            report_case = report.case_id
        do(app, client, auth, poisoner, report_case, f"submit_{kind}_report")
        do(app, client, auth, poisoner, report_case, f"review_{kind}_report")
        check_stored_and_shown(app, client, auth, report_case, poisoner)

    forms = set(all_task_ids())
    assert set(poisoner.used) == forms, forms - set(poisoner.used)  # every form was reached
    assert sum(len(u) for u in poisoner.used.values()) >= 30
    assert not marker.exists()
    assert builtins_before == script_env.SAFE_BUILTINS
    with app.app_context():
        assert set(get_engine().script_engine.restricted.globals) == env_before
    # (time-machine itself sets TZ while it moves the clock)
    assert {k: v for k, v in os.environ.items() if k != "TZ"} == {
        k: v for k, v in environ_before.items() if k != "TZ"
    }


def next_timer(app: Flask, case_id: int):
    """The case's next timer."""
    with app.app_context():
        return db.session.get(Case, case_id).next_timer_at
