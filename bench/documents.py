"""The CPU cost of issuing a step's documents (``server.documents.issue_documents``).

A completion that issues an official document spends most of its server CPU numbering,
filling, rendering (ReportLab) and storing it. This measures that call alone, in-process, for
three steps of increasing weight:

- ``refer_to_fire_rescue``: the street's 重大火灾隐患函告书 (a 函, letter layout, one page);
- ``serve_rectification_notice``: the 整改通知书 and its 送达回证 (two documents, notice layout);
- ``cause_investigation``: the 火灾事故认定书 (notice layout, headings, the longest text).

Each step's case is driven to the step through the API (a fresh SQLite database, the demo
agencies and users), then ``issue_documents`` is called ``--renders`` times on that task with
the step's sample form, each call in a transaction rolled back afterwards (so every call takes
the same number, as a completion would). One JSON line per step: the median and p95 CPU time
(``time.thread_time``) per call in ms, the median of its rendering alone, its SQL statements,
the documents issued per call and their size.
``--profile`` prints the top functions of one more batch by cumulative time.

    .venv/bin/python bench/documents.py [--renders 40] [--profile] [--json FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

from server import create_app
from server.extensions import db
from server.models import Attachment, Document, Task, User
from tests.support import fire_accountability
from tests.support.api import Api, today
from tests.support.major_hazard import FIRE, STREET, sample

PASSWORD = "bench-password"
BRIGADE = "dingcheng.fire"  # 鼎城区消防救援大队: the fire investigation's county level


class _Auth:
    """API tokens for the demo users (what ``tests.support.api.Api`` asks of its ``auth``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def token(self, username: str) -> dict[str, str]:
        answer = self.client.post(
            "/api/v1/tokens", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json['token']}"}


def make_app(workdir: Path):
    """An app over a fresh SQLite database with the demo agencies and users."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'documents.sqlite3'}",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SWEEP_SECONDS": 0,
            "UPLOAD_DIR": str(workdir / "attachments"),
        }
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from server.directory import ensure_agencies, ensure_demo_users

        ensure_agencies()
        ensure_demo_users(PASSWORD)
        db.session.commit()
        db.session.remove()
    return app


def prepare(api: Api) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The steps measured: (step, user, task id, form), each case driven up to its step."""
    steps = []
    case = api.register(STREET)["id"]
    task = api.task_id(STREET, case, "refer_to_fire_rescue")
    steps.append(("refer_to_fire_rescue", STREET, task, sample("refer_to_fire_rescue", today())))
    case = api.register(STREET)["id"]
    for user, name in [
        (STREET, "refer_to_fire_rescue"),
        (FIRE, "file_case"),
        (FIRE, "collective_deliberation"),
    ]:
        api.complete(user, case, name)
    name = "serve_rectification_notice"
    steps.append((name, FIRE, api.task_id(FIRE, case, name), sample(name, today())))
    case = api.register_fire(BRIGADE, days_ago=5, direct_loss=850000, minor_injuries=1)["id"]
    name = "cause_investigation"
    form = fire_accountability.sample(name, today())
    steps.append((name, BRIGADE, api.task_id(BRIGADE, case, name), form))
    return steps


def issuer(task_id: str, username: str, form: dict[str, Any]) -> Callable[[], Issued]:
    """A call of ``issue_documents`` as ``complete_task`` makes it, rolled back after."""
    from server import documents
    from server.documents import issue_documents
    from server.operations import load_instance

    rendering: list[float] = []
    render = documents.render
    statements = [0]

    def count(*args: Any) -> None:
        statements[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)

    def timed_render(*args: Any, **kwargs: Any) -> bytes:
        started = time.thread_time()
        try:
            return render(*args, **kwargs)
        finally:
            rendering.append((time.thread_time() - started) * 1000)

    def issue() -> Issued:
        task = db.session.get(Task, task_id)
        assert task is not None and task.state == "ready", task_id
        user = db.session.scalar(select(User).where(User.username == username))
        instance = load_instance(task.case)
        data = instance.task_data(task.id)
        now = datetime.now(UTC)
        rendering.clear()
        statements[0] = 0
        documents.render = timed_render  # issue_one calls the package's ``render``
        started = time.thread_time()
        try:
            issue_documents(user, task.case, task, data, dict(form), now, instance)
            spent = (time.thread_time() - started) * 1000
            sql = statements[0]
        finally:
            documents.render = render
        query = select(Attachment.size).join(Document).where(Document.task_id == task.id)
        sizes = list(db.session.scalars(query))
        db.session.rollback()
        return Issued(spent, sum(rendering), sql, len(sizes), sum(sizes))

    return issue


@dataclass(frozen=True)
class Issued:
    """One call: its CPU ms (the case's loading and the rollback around it not counted), of
    which rendering the PDFs (``server.documents.render.render``), its SQL statements, the
    documents it issued and the bytes of their PDFs."""

    cpu_ms: float
    render_cpu_ms: float
    statements: int
    documents: int
    pdf_bytes: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=40, help="calls per step (≥ 30)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one more batch")
    parser.add_argument("--json", default=None, help="append the JSON lines to this file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-documents-"))
    app = make_app(workdir)
    client = app.test_client()
    steps = prepare(Api(client, _Auth(client)))
    lines = []
    with app.app_context():
        for step, user, task_id, form in steps:
            issue = issuer(task_id, user, form)
            for _ in range(args.warmup):
                issue()
            calls = [issue() for _ in range(args.renders)]
            spent = [call.cpu_ms for call in calls]
            line = {
                "measure": "document issue",
                "step": step,
                "documents": calls[-1].documents,
                "pdf_bytes": calls[-1].pdf_bytes,
                "statements": calls[-1].statements,
                "cpu_ms": round(statistics.median(spent), 2),
                "render_cpu_ms": round(statistics.median(c.render_cpu_ms for c in calls), 2),
                "p95_cpu_ms": round(sorted(spent)[int(0.95 * (len(spent) - 1))], 2),
                "renders": len(spent),
            }
            lines.append(line)
            print(json.dumps(line, ensure_ascii=False), flush=True)
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.renders):
                    issue()
                profile.disable()
                out = io.StringIO()
                stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
                stats.print_stats(35)
                print(out.getvalue())
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
