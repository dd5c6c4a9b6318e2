"""Bad input, fuzzed: HTML task forms, the registration form, uploads and follow-ups, and the
JSON API against its own OpenAPI description (schemathesis, positive and negative modes, and
hand-made nasty bodies).

Every example is invalid by construction (a required field is missing, mistyped or poisoned),
so the only acceptable answers are 4xx with a Chinese message — 422 naming the field, 413 too
large, 415 wrong file type, 400 malformed, 404 not visible, 409 conflict — never a 500; and
after each test the database (every row of every table, :func:`db_snapshot`) and the upload
folder are exactly as before.

The number of examples tried is printed by ``test_fuzz_figures``:
``.venv/bin/python -m pytest tests/integration/test_fuzz_input.py -s``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .conftest import Auth, Databases, csrf_token
from .security_world import PDF_BYTES, World, db_snapshot, module_world

#: Request bodies above this answer 413 (lowered for the module so that oversize is cheap).
LIMIT = 4 * 1024 * 1024
CJK = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    # CI (.ci/run) tries the same examples on every run, so that a landing never depends on a
    # lucky draw; every other run draws new ones (``--hypothesis-seed=N`` repeats a draw).
    derandomize=os.environ.get("DUBAN_FUZZ_DERANDOMIZE") == "1",
)
EXAMPLES: dict[str, int] = {}

# --------------------------------------------------------------------------- nasty values

HUGE = "a" * (1024 * 1024)
NASTY_TEXT = [
    "\x00",
    "前\x00后",
    "\x01\x02\x1b[31m",
    "\u202e反转",
    "\ufffd\ufffd",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "字" * 5000,
    HUGE,
]
NASTY_DATES = [
    "2026-02-30",
    "2027-13-01",
    "9999-12-31",
    "10000-01-01",
    "0000-00-00",
    "2027-01-01T00:00:00",
    "二〇二六年",
    "-2026-01-01",
    "2026-1-1",
]
NASTY_NUMBERS = [
    "-1",
    "-99999999999999999999999",
    "1e309",
    "NaN",
    "Infinity",
    "0x10",
    "１２",
    "3.5",
    "",
]
NASTY_JSON = [None, True, -1, -(10**30), 1.5e308, [], {}, ["a"], {"a": 1}, "", "\x00"]


def _kind(node: dict[str, Any]) -> str:
    if "enum" in node or "oneOf" in node:
        return "enum"
    if node.get("format") == "date":
        return "date"
    return str(node.get("type", "string"))


def poisonable(schema: dict[str, Any]) -> list[str]:
    """Required top-level fields whose value can be made invalid whatever the others are
    (an unticked checkbox is a valid ``false``, so booleans are left out)."""
    props = schema.get("properties", {})
    return [n for n in schema.get("required", []) if _kind(props.get(n, {})) != "boolean"]


def html_poison(node: dict[str, Any]) -> st.SearchStrategy[str | None]:
    """A form value that the field must refuse (None: the field is left out)."""
    kind = _kind(node)
    options: list[Any] = [None, "\x00", "值\x07"]
    if kind == "date":
        options += ["2026-02-30", "9999-12-31", "2101-01-01", "not a date"]
    elif kind in ("integer", "number"):
        options += ["1e309", "NaN", "abc", "-" + "9" * 400]
    elif kind == "enum":
        options += ["no-such-choice", "__proto__"]
    elif kind == "string":
        options += ["x" * (int(node.get("maxLength", 1000)) + 1)]
    return st.sampled_from(options)


def html_noise(node: dict[str, Any]) -> st.SearchStrategy[str]:
    """Any junk for a field."""
    kind = _kind(node)
    pool = NASTY_TEXT + (NASTY_DATES if kind == "date" else []) + NASTY_NUMBERS
    return st.one_of(st.sampled_from(pool), st.text(max_size=30))


def json_poison(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A JSON value of the wrong type for the field (or a refused one of the right type)."""
    kind = _kind(node)
    wrong = [v for v in NASTY_JSON if not isinstance(v, str)]
    if kind in ("integer", "number"):
        wrong = [v for v in wrong if isinstance(v, bool) or not isinstance(v, int | float)]
        wrong += ["12", "NaN"]
    elif kind == "boolean":
        wrong = [v for v in wrong if not isinstance(v, bool)] + ["true"]
    elif kind == "array":
        wrong = [v for v in wrong if not isinstance(v, list)] + ["a"]
    else:  # strings, dates, enums
        wrong += ["\x00", "前\x00后", "2026-02-30" if kind == "date" else "\x1b", "x" * 100_000]
    return st.sampled_from(wrong)


def json_noise() -> st.SearchStrategy[Any]:
    """Any JSON junk."""
    scalars = st.one_of(
        st.sampled_from(NASTY_JSON + NASTY_TEXT[:-1] + NASTY_DATES + NASTY_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


@st.composite
def html_form(draw: Any, schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Form fields for ``schema``: junk in some fields, one required field poisoned, extras."""
    props: dict[str, Any] = schema.get("properties", {})
    pairs: list[tuple[str, str]] = []
    for name in draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=6)):
        pairs.append((name, draw(html_noise(props[name]))))
    target = draw(st.sampled_from(poisonable(schema)))
    pairs = [(k, v) for k, v in pairs if k != target]
    value = draw(html_poison(props.get(target, {})))
    if value is not None:
        pairs.append((target, value))
    extras = draw(
        st.lists(
            st.sampled_from(["surprise", "__proto__", "a.999999.b", "_form", "x" * 300]), max_size=2
        )
    )
    pairs += [(name, "1") for name in extras]
    return pairs


@st.composite
def json_form(draw: Any, schema: dict[str, Any]) -> Any:
    """Form data as JSON for ``schema``: junk, one required field poisoned, extra keys."""
    props: dict[str, Any] = schema.get("properties", {})
    data: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=6)):
        data[name] = draw(json_noise())
    target = draw(st.sampled_from(poisonable(schema)))
    if draw(st.booleans()):
        data.pop(target, None)
    else:
        data[target] = draw(json_poison(props.get(target, {})))
    for key in draw(st.lists(st.sampled_from(["surprise", "\x00", "键" * 100]), max_size=2)):
        data[key] = draw(json_noise())
    return data


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world_app(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, World]]:
    """The world, with a lower request size limit."""
    for app, world in module_world(databases, tmp_path_factory, "fuzz"):
        app.config["MAX_CONTENT_LENGTH"] = LIMIT
        yield app, world


class Session:
    """A logged-in test client (with its CSRF token) and an API token for one user."""

    def __init__(self, app: Flask, username: str) -> None:
        self.username = username
        self.client: FlaskClient = app.test_client()
        auth = Auth(app, self.client)
        assert auth.login(username).status_code == 302
        self.csrf = csrf_token(self.client.get("/notifications").text)
        self.headers = auth.token(username)


@pytest.fixture(scope="module")
def sessions(world_app: tuple[Flask, World]) -> dict[str, Session]:
    """Sessions of the users the tests act as (logging in and taking a token write audit
    events, so this happens before any snapshot)."""
    app, _world = world_app
    names = (
        "wuling.nanping",
        "wuling.fire",
        "wuling.supervisor",
        "admin",
        "mx.officer.same",
        "city.auditor",
    )
    return {name: Session(app, name) for name in names}


@pytest.fixture(scope="module")
def workers(
    world_app: tuple[Flask, World], sessions: dict[str, Session]
) -> dict[str, tuple[Session, str, dict[str, Any]]]:
    """Per ready task of the world (whatever its process): a session of an officer who may
    complete it (its claimer, if claimed) and its resolved form schema."""
    app, _world = world_app
    from server.extensions import db
    from server.models import Task, User
    from server.operations import form_options
    from workflows.forms import resolve_form

    found = {}
    with app.app_context():
        options = form_options()
        for task in db.session.scalars(select(Task).where(Task.state == "ready")):
            user = task.claimed_by or db.session.scalar(
                select(User).where(
                    User.agency_id == task.agency_id,
                    User.roles == "officer",
                    ~User.username.like("mx.%"),
                )
            )
            assert user is not None
            found[task.id] = (task.name, user.username, resolve_form(task.name, options))
        db.session.remove()
    result = {}
    for task_id, (_name, username, schema) in found.items():
        if username not in sessions:
            sessions[username] = Session(app, username)
        result[task_id] = (sessions[username], task_id, schema)
    return result


@pytest.fixture
def unchanged(world_app: tuple[Flask, World], workers: dict[str, Any]) -> Iterator[None]:
    """Fail the test if the database or the upload folder changed."""
    app, _world = world_app
    before = db_snapshot(app)
    yield
    changes = before.diff(db_snapshot(app))
    assert not changes, "\n".join(changes)


def check_html(response: Any, where: str, marker: str = 'class="error"') -> None:
    """A refused form: 400, 413, 415 or 422 with a Chinese page; a 422 shows ``marker`` (by
    default the error next to a field)."""
    assert response.status_code in (400, 413, 415, 422), f"{where}: {response.status_code}"
    text = response.get_data().decode("utf-8", errors="replace")
    assert CJK.search(text), where
    if response.status_code == 422:
        assert marker in text, f"{where}: no error shown"


def check_api(response: Any, where: str, statuses: tuple[int, ...]) -> dict[str, Any]:
    """A refused API call: a JSON error in Chinese; 422 names the fields."""
    assert response.status_code in statuses, f"{where}: {response.status_code} {response.data!r}"
    assert response.is_json, where
    body = response.json
    assert set(body) == {"error", "message", "fields"}, where
    assert CJK.search(body["message"]), where
    if response.status_code == 422:
        assert body["fields"], f"{where}: 422 without fields"
        assert all(CJK.search(m) for m in body["fields"].values()), body["fields"]
    return body


def count(name: str) -> None:
    """Count one example of a fuzz test."""
    EXAMPLES[name] = EXAMPLES.get(name, 0) + 1


# --------------------------------------------------------------------------- HTML forms


def test_fuzz_task_forms(workers: dict[str, Any], unchanged: None) -> None:
    """Task forms of every ready task, submitted with junk: 4xx, nothing written."""
    tasks = sorted(workers)

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        session, task_id, schema = workers[data.draw(st.sampled_from(tasks))]
        pairs = data.draw(html_form(schema))
        form = [(k, v) for k, v in pairs] + [("csrf_token", session.csrf)]
        raw = data.draw(st.booleans())
        if raw:  # hand-encoded, with bytes that are not UTF-8
            body = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in form)
            body += "&" + quote(pairs[0][0] if pairs else "x") + "=%FF%FE%C0%AF"
            response = session.client.post(
                f"/tasks/{task_id}",
                data=body,
                content_type="application/x-www-form-urlencoded",
            )
        else:
            response = session.client.post(f"/tasks/{task_id}", data=MultiDict(form))
        count("task forms (HTML)")
        check_html(response, f"task {task_id} {pairs!r:.200}")

    run()


def test_fuzz_registration_form(
    world_app: tuple[Flask, World], sessions: dict[str, Session], unchanged: None
) -> None:
    """The start form of every process (/cases/new), submitted with junk: 4xx, nothing
    written."""
    app, _world = world_app
    from server import operations
    from workflows.forms import resolve_form
    from workflows.lanes import SYSTEM_STARTED

    # Registered by the agencies that open cases of each process: a street, a fire brigade.
    registrar = {"major_hazard": "wuling.nanping", "fire_accountability": "wuling.fire"}
    with app.app_context():
        options = operations.form_options()
        forms = {
            pid: resolve_form(operations.start_form(pid), options)
            for pid in sorted(operations.get_engine().catalog.process_ids())
            if pid not in SYSTEM_STARTED  # the reports: opened by the system, no start form
        }
    assert set(forms) == set(registrar)

    @FUZZ
    @given(st.sampled_from(sorted(forms)), st.data())
    def run(process: str, data: st.DataObject) -> None:
        pairs = data.draw(html_form(forms[process]))
        session = sessions[registrar[process]]
        response = session.client.post(
            f"/cases/new?process={process}", data=MultiDict([*pairs, ("csrf_token", session.csrf)])
        )
        count("registration form (HTML)")
        check_html(response, f"{process} {pairs!r:.200}")

    run()


def test_oversized_forms_answer_413(
    world_app: tuple[Flask, World], workers: dict[str, Any], unchanged: None
) -> None:
    """A form or JSON body over the size limit: 413 with a Chinese message."""
    session, task_id, _schema = next(iter(workers.values()))
    big = "x" * (LIMIT + 1)
    response = session.client.post(
        f"/tasks/{task_id}",
        data=f"csrf_token={session.csrf}&remarks={big}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    check_html(response, "oversized form")
    assert response.status_code == 413
    body = json.dumps({"data": {"remarks": big}})
    response = session.client.post(
        f"/api/v1/tasks/{task_id}/complete",
        data=body,
        headers=session.headers,
        content_type="application/json",
    )
    check_api(response, "oversized JSON", (413,))
    count("oversized bodies")


@st.composite
def bad_upload(draw: Any) -> tuple[str, bytes, str, int]:
    """(file name, content, declared MIME type, expected status) of an upload to refuse."""
    reason = draw(st.sampled_from(["traversal", "type", "content", "empty"]))
    mime = draw(
        st.sampled_from(
            [
                "application/pdf",
                "text/html",
                "image/svg+xml",
                "application/x-msdownload",
                "",
                "\x00/\x00",
            ]
        )
    )
    noise = draw(st.sampled_from(["", "\x00", "\u202e", "\n", " ", "现场", "<b>"]))
    ext = draw(st.sampled_from(["pdf", "png", "jpg", "docx", "xlsx", "doc"]))
    if reason == "traversal":
        # (backslash paths are covered by test_web's clean_filename test: the test client
        # strips backslashes from multipart file names)
        prefix = draw(st.sampled_from(["../../etc/", "a/../../", "/../", "../"]))
        return f"{prefix}{noise}passwd.{ext}", PDF_BYTES, mime, 422
    if reason == "type":
        bad = draw(st.sampled_from(["exe", "html", "svg", "js", "php", "pdf.exe", "", "p df"]))
        return f"{noise}file.{bad}" if bad else f"{noise}file", PDF_BYTES, mime, 415
    if reason == "content":
        content = draw(
            st.sampled_from(
                [b"<html><script>", b"MZ\x90\x00", b"\xff\xfe\x00", b"PK\x03\x04broken", b"GIF89a"]
            )
        )
        return f"{noise}file.{ext}", content, mime, 415
    return f"{noise}empty.{ext}", b"", mime, 422


def test_fuzz_uploads(
    world_app: tuple[Flask, World], sessions: dict[str, Session], unchanged: None
) -> None:
    """Attachments with path-traversal names, wrong types and lying content: 4xx, nothing
    stored (neither a row nor a file)."""
    import io

    _app, world = world_app
    session = sessions["wuling.nanping"]
    case = world.cases["A1"]

    @FUZZ
    @given(bad_upload())
    def run(upload: tuple[str, bytes, str, int]) -> None:
        name, content, mime, status = upload
        response = session.client.post(
            f"/cases/{case.id}/attachments",
            data={"csrf_token": session.csrf, "file": (io.BytesIO(content), name, mime or None)},
        )
        count("uploads (HTML)")
        check_html(response, f"upload {name!r}", "附件未上传：")
        # (a NUL or newline breaks the multipart header: then no file arrives, 422)
        assert response.status_code in (status, 422), (name, response.status_code)

    run()
    # encoded here: the test client would spool a body this large into a temporary file,
    # which it leaves open when the app refuses the body unread
    boundary = "fuzz-boundary"
    too_big = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{session.csrf}\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-"
        ).encode()
        + b"0" * LIMIT
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = session.client.post(
        f"/cases/{case.id}/attachments",
        data=too_big,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)


def test_fuzz_follow_up(
    world_app: tuple[Flask, World], sessions: dict[str, Session], unchanged: None
) -> None:
    """Supervisors' follow-up form with junk (a bad action, or a note that is empty, too
    long or holds control characters): 422, nothing written."""
    _app, world = world_app
    session = sessions["wuling.supervisor"]
    case = world.cases["A1"]
    notes = st.sampled_from(["", "   ", "\x00", "说明\x1b", "\u2028", "x" * 2001, "字" * 100_000])

    @FUZZ
    @given(
        st.one_of(
            st.tuples(st.sampled_from(["supervise", "interview", "expose"]), notes),
            st.tuples(st.sampled_from(["", "delete", "\x00", "督办"]), st.text(max_size=50)),
        )
    )
    def run(values: tuple[str, str]) -> None:
        action, note = values
        response = session.client.post(
            f"/cases/{case.id}/follow-up",
            data={"csrf_token": session.csrf, "action": action, "note": note},
        )
        count("follow-ups (HTML)")
        check_html(response, f"follow-up {values!r:.100}")

    run()


# --------------------------------------------------------------------------- the JSON API

#: Operations fuzzed with schemathesis, and the path parameters to use for them (None:
#: generated). Token creation and deletion are left out: they write by design (login audit).
API_OPERATIONS = (
    "createCase",
    "completeTask",
    "claimTask",
    "releaseTask",
    "putCalendarYear",
    "listCases",
    "getInbox",
    "listDeadlines",
    "getCase",
    "getTask",
    "listCaseEvents",
    "getCalendarYear",
)


def _query(query: dict[str, Any] | None) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (query or {}).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            pairs.append((str(key), text))
    return pairs


def test_fuzz_api_with_schemathesis(
    world_app: tuple[Flask, World],
    workers: dict[str, Any],
    sessions: dict[str, Session],
    unchanged: None,
) -> None:
    """Every write operation (and the filtered lists) of /api/v1/openapi.json, with data
    schemathesis generates from it — outside the schema (negative) and inside it (positive,
    which the forms still refuse) — against the world's real ids: a JSON 4xx, never a 500."""
    app, world = world_app
    spec = app.test_client().get("/api/v1/openapi.json").json
    schema = schemathesis.openapi.from_dict(spec)
    operations = {
        op["operationId"]: (path, method.upper())
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    # a claimed task of another officer (claim/release/complete: 409) and one the caller
    # claimed (completion is validated), and an officer's case
    a1 = world.cases["A1"]
    claimer = next(s for s, task_id, _ in workers.values() if task_id == a1.task_id)
    colleague = sessions["mx.officer.same"]  # same agency, not the claimer: 409
    ids = {"task_id": a1.task_id, "case_id": a1.id, "year": 2027}
    admin = sessions["admin"]
    strategies = []
    for op_id in API_OPERATIONS:
        path, method = operations[op_id]
        operation = schema[path][method]
        fixed = {k: v for k, v in ids.items() if "{" + k + "}" in path}
        # valid calendar data is a valid change: only data outside the schema there
        modes = [GenerationMode.NEGATIVE]
        if op_id != "putCalendarYear":
            modes.append(GenerationMode.POSITIVE)
        for mode in modes:
            strategies.append(operation.as_strategy(mode, path_parameters=fixed or None))
            if fixed:
                strategies.append(operation.as_strategy(mode))  # ids generated too
    writes = {"POST", "PUT", "DELETE"}
    # Negative cases may be negative only in a header we replace: a calendar body that fits
    # the schema is a valid change, not bad input.
    calendar = Draft202012Validator(
        {
            **spec["paths"]["/calendar/{year}"]["put"]["requestBody"]["content"][
                "application/json"
            ]["schema"],
            "components": spec["components"],
        }
    )

    @settings(FUZZ, max_examples=150)
    @given(st.one_of(*strategies))
    def run(case: Any) -> None:
        path = case.operation.path
        if path.startswith("/calendar") and case.method == "PUT":
            assume(not calendar.is_valid(case.body))
        caller = admin if path.startswith("/calendar") else claimer
        if path.endswith(("/claim", "/release")):
            caller = colleague
        headers = {k: v for k, v in (case.headers or {}).items() if isinstance(v, str)}
        headers["Authorization"] = caller.headers["Authorization"]
        kwargs: dict[str, Any] = {"headers": headers, "query_string": _query(case.query)}
        if case.body is not None and not isinstance(case.body, NotSet):
            body = case.body
            kwargs["data"] = body if isinstance(body, bytes) else json.dumps(body, default=repr)
            kwargs["content_type"] = case.media_type or "application/json"
        url = "/api/v1" + case.formatted_path
        response = caller.client.open(url, method=case.method, **kwargs)
        count("API (schemathesis)")
        where = f"{case.method} {url} {case.body!r:.200} {case.query!r:.100}"
        if case.method in writes or response.status_code >= 400:
            check_api(response, where, (400, 401, 403, 404, 405, 409, 413, 415, 422))
        else:
            assert response.status_code == 200, where

    run()


def test_fuzz_api_form_data(workers: dict[str, Any], unchanged: None) -> None:
    """Task completion through the API with junk form data of every ready task's form, and
    registration with junk start-form data: 422 naming fields, or 400 for bytes that are
    not JSON; a colleague's claimed task 409; nothing written."""
    tasks = sorted(workers)

    @FUZZ
    @given(st.sampled_from(tasks), st.data())
    def run(task_id: str, data: st.DataObject) -> None:
        session, _task_id, schema = workers[task_id]
        form = data.draw(json_form(schema))
        how = data.draw(st.sampled_from(["json", "bytes", "wrong type", "register", "deep"]))
        url = f"/api/v1/tasks/{task_id}/complete"
        if how == "deep":  # nested past the limit somewhere in the body: 400, never a 500
            depth = data.draw(st.sampled_from([33, 100, 400, 700, 990, 1500, 100_000]))
            inner = "[" * depth + "]" * depth
            key = json.dumps(data.draw(st.sampled_from(sorted(form) or ["remarks"])))
            body = '{"data": {' + key + ": " + inner + "}}"
            response = session.client.post(
                url, data=body, headers=session.headers, content_type="application/json"
            )
            check_api(response, f"deep {depth} in {key}", (400,))
        elif how == "bytes":
            body = json.dumps({"data": form}).encode()
            body = body[:-1] + data.draw(st.sampled_from([b"\xff}", b"\x00}", b"", b"}}"]))
            response = session.client.post(
                url, data=body, headers=session.headers, content_type="application/json"
            )
            check_api(response, f"bytes {body!r:.200}", (400,))
        elif how == "wrong type":
            response = session.client.post(
                url, data=f"data={form!r}", headers=session.headers, content_type="text/plain"
            )
            check_api(response, "text/plain", (400, 415))
        elif how == "register":
            response = session.client.post(
                "/api/v1/cases",
                json={"process": "major_hazard", "data": form},
                headers=session.headers,
            )
            check_api(response, f"register {form!r:.200}", (403, 422))
        else:
            response = session.client.post(url, json={"data": form}, headers=session.headers)
            check_api(response, f"complete {form!r:.200}", (422,))
        count("API form data")

    run()


#: Page numbers that are no ASCII integer in range: digits that ``str.isdigit`` accepts and
#: ``int`` refuses (or reads as another number), signs, spaces, fractions, huge numbers.
ODD_PAGE_NUMBERS = st.one_of(
    st.sampled_from(["²", "٣", "１２", "③", "1²", "0", "-1", "+1", " 1", "1.5", "1e3", "100001"]),
    st.text(
        st.characters(categories=["Nd", "No", "Nl"], exclude_characters="0123456789"),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=100_001).map(str),
    # (a NUL in an HTML query string is refused before any view: test_security)
    st.text(st.characters(exclude_characters="\x00"), max_size=10).filter(
        lambda t: not re.fullmatch(r"[0-9]*", t)
    ),
)


def test_fuzz_page_numbers(
    world_app: tuple[Flask, World], sessions: dict[str, Session], unchanged: None
) -> None:
    """Every paged list, HTML and API, with a page number (or API page size) that is none:
    HTML 400 naming 页码（page）, API 422 naming the parameter — never a 500."""
    officer, auditor = sessions["wuling.nanping"], sessions["city.auditor"]
    html = [
        ("/", officer),
        ("/cases", officer),
        ("/notifications", officer),
        ("/warnings", officer),
        ("/audit?status=open", auditor),
    ]
    api = ["/cases", "/inbox", "/deadlines"]

    @FUZZ
    @given(
        st.sampled_from(html),
        st.sampled_from(api),
        st.sampled_from(["page", "per_page"]),
        ODD_PAGE_NUMBERS,
    )
    def run(page: tuple[str, Session], list_path: str, name: str, value: str) -> None:
        path, session = page
        joiner = "&" if "?" in path else "?"
        response = session.client.get(f"{path}{joiner}page={quote(value)}")
        check_html(response, f"{path} page={value!r}")
        assert response.status_code == 400 and "页码（page）" in response.text, value
        response = officer.client.get(
            "/api/v1" + list_path, query_string={name: value}, headers=officer.headers
        )
        body = check_api(response, f"{list_path} {name}={value!r}", (422,))
        assert set(body["fields"]) == {name}, body
        count("page numbers (HTML and API)")

    run()


def test_fuzz_figures() -> None:
    """Print (``-s``) how many fuzz examples each test tried."""
    total = sum(EXAMPLES.values())
    lines = [f"  {name}: {n}" for name, n in sorted(EXAMPLES.items())]
    print("\nfuzz examples tried:\n" + "\n".join(lines) + f"\n  total: {total}")
