"""Calls to /api/v1 through the Flask test client, as the integration tests make them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.support import fire_accountability
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

#: The reason for lateness the driver gives when a step it completes is overdue.
LATE_REASON = "测试：本环节按测试情景逾期办理。"


def today():
    """Today in Asia/Shanghai (form dates may not lie after it)."""
    return datetime.now(SHANGHAI).date()


class Api:
    """Calls to /api/v1 with a token per user (fetched once)."""

    def __init__(self, client: FlaskClient, auth: Any) -> None:
        self.client = client
        self.auth = auth
        self.tokens: dict[str, dict[str, str]] = {}

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = self.auth.token(user)
        return self.tokens[user]

    def call(self, user: str | None, method: str, path: str, **kwargs: Any):
        headers = self.headers(user) if user else {}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, user: str, path: str, **kwargs: Any):
        return self.call(user, "GET", path, **kwargs)

    def post(self, user: str, path: str, **kwargs: Any):
        return self.call(user, "POST", path, **kwargs)

    def register(self, user: str = "wuling.nanping", days_ago: int = 3, **overrides: Any) -> dict:
        """Open a major-hazard case found ``days_ago`` days ago; return the case."""
        found = today() - timedelta(days=days_ago)
        data = sample("register_hazard", found, **overrides)
        response = self.post(user, "/cases", json={"process": "major_hazard", "data": data})
        assert response.status_code == 201, response.json
        return response.json

    def register_fire(self, user: str, days_ago: int = 3, **overrides: Any) -> dict:
        """Open a fire-accountability case for an alarm ``days_ago`` days ago; return it."""
        data = fire_accountability.sample("register_fire", today() - timedelta(days=days_ago))
        data.update(overrides)
        response = self.post(user, "/cases", json={"process": "fire_accountability", "data": data})
        assert response.status_code == 201, response.json
        return response.json

    def task_id(self, user: str, case_id: int, name: str) -> str:
        """The id of the open task ``name`` of a case, as ``user`` sees the case."""
        case = self.get(user, f"/cases/{case_id}").json
        ids = [t["id"] for t in case["tasks"] if t["name"] == name]
        assert ids, f"{name} is not open; open: {[t['name'] for t in case['tasks']]}"
        return ids[0]

    def complete(self, user: str, case_id: int, name: str, **overrides: Any) -> dict:
        """Complete the open task ``name`` today with valid sample data; return the case as
        ``GET /cases/{id}`` answers after it (the completion's own answer is small: its version
        and next steps are checked against that case here)."""
        task_id = self.task_id(user, case_id, name)
        try:
            data = sample(name, today(), **overrides)
        except KeyError:
            data = fire_accountability.sample(name, today(), **overrides)
        body: dict[str, Any] = {"data": data}
        if self.get(user, f"/tasks/{task_id}").json["overdue"]:
            body["late_reason"] = LATE_REASON  # an overdue step is completed with a reason
        response = self.post(user, f"/tasks/{task_id}/complete", json=body)
        assert response.status_code == 200, response.json
        done = response.json
        case = self.get(user, f"/cases/{case_id}").json
        assert (done["id"], done["status"], done["stage"]) == (
            case["id"],
            case["status"],
            case["stage"],
        )
        open_ids = {t["id"] for t in case["tasks"]}
        assert all(t["id"] in open_ids for t in done["next_tasks"]), done["next_tasks"]
        return case


def assert_error(response, status: int, error: str, fields: set[str] | None = None) -> dict:
    """Check a JSON error answer; return its body."""
    assert response.status_code == status, response.data
    assert response.is_json, response.data
    body = response.json
    assert body["error"] == error
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if fields is not None:
        assert set(body["fields"]) == fields, body["fields"]
    return body
