"""Inbox tools (issue 18): keyword search, sortable columns, arrival time and the 新 mark, the
district filter of the served districts, bulk claim and 转办 — in the HTML inbox and the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.directory import create_user
from server.extensions import db
from server.models import Event, Notification, Task, User
from tests.support.api import Api, assert_error

from .conftest import PASSWORD, Auth, csrf_token

STREET = "wuling.nanping"  # 武陵区南坪街道
BRIGADE = "wuling.fire"
OTHER_BRIGADE = "dingcheng.fire"
COLLEAGUE = "wuling.nanping.li"


@pytest.fixture
def colleague(app: Flask) -> str:
    """A second officer of 南坪街道 (转办 target)."""
    with app.app_context():
        create_user(COLLEAGUE, "李同事", "street:wuling:nanping", "officer", PASSWORD)
        db.session.commit()
    return COLLEAGUE


def three_cases(api: Api) -> tuple[int, int, int]:
    """Three cases in 南坪街道's inbox, registered 20, 5 and 1 days ago (arrival = now)."""
    first = api.register(days_ago=20, unit_name="甲乙商贸有限公司", address="武陵区人民路1号")
    second = api.register(days_ago=5, unit_name="丙丁酒店", address="武陵区建设路88号")
    third = api.register(days_ago=1, unit_name="戊己养老院", address="武陵区朗州路7号")
    return first["id"], second["id"], third["id"]


def inbox_ids(api: Api, query: str = "", user: str = STREET) -> list[int]:
    response = api.get(user, f"/inbox{query}")
    assert response.status_code == 200, response.json
    return [item["case"]["id"] for item in response.json["items"]]


def test_api_search_and_sort(api: Api) -> None:
    a, b, c = three_cases(api)
    number = api.get(STREET, f"/cases/{b}").json["number"]
    assert inbox_ids(api) == [a, b, c]  # earliest due first
    assert inbox_ids(api, "?q=丙丁") == [b]
    assert inbox_ids(api, "?q=朗州路") == [c]  # the address
    assert inbox_ids(api, f"?q={number}") == [b]  # 督办编号
    assert inbox_ids(api, "?q=%25") == []  # a literal %, not a wildcard
    assert inbox_ids(api, "?q=不存在") == []
    assert inbox_ids(api, "?sort=due&order=desc") == [c, b, a]
    assert inbox_ids(api, "?sort=unit") == sorted(
        [a, b, c], key=lambda i: {a: "甲", b: "丙", c: "戊"}[i]
    )
    assert inbox_ids(api, "?sort=arrival&order=desc") == [c, b, a]
    assert inbox_ids(api, "?sort=district&district=wuling") == [a, b, c]
    assert inbox_ids(api, "?sort=step") == [a, b, c]  # one step: ties keep the due order
    item = api.get(STREET, "/inbox").json["items"][0]
    assert item["new"] is True and item["created_at"].endswith("+08:00")
    assert_error(api.get(STREET, "/inbox?sort=color"), 422, "invalid", {"sort"})
    assert_error(api.get(STREET, "/inbox?order=up"), 422, "invalid", {"order"})


def test_api_search_by_filing_number(app: Flask, api: Api) -> None:
    """立案号 (case_no) is searched too."""
    a, _b, _c = three_cases(api)
    with app.app_context():
        from server.models import Case

        db.session.get(Case, a).case_no = "武消立字〔2026〕第0042号"
        db.session.commit()
    assert inbox_ids(api, "?q=第0042号") == [a]


def test_the_new_mark_lasts_24_hours(api: Api, time_machine) -> None:
    time_machine.move_to(datetime.now(UTC), tick=True)
    three_cases(api)
    assert all(i["new"] for i in api.get(STREET, "/inbox").json["items"])
    time_machine.shift(timedelta(hours=25))
    assert not any(i["new"] for i in api.get(STREET, "/inbox").json["items"])


def test_api_bulk_claim_is_all_or_nothing(app: Flask, api: Api, colleague: str) -> None:
    a, b, c = three_cases(api)
    ids = {cid: api.task_id(STREET, cid, "refer_to_fire_rescue") for cid in (a, b, c)}
    # a colleague holds c's task: claiming a, b and c claims nothing
    assert api.post(colleague, f"/tasks/{ids[c]}/claim").status_code == 200
    refused = assert_error(
        api.post(STREET, "/tasks/claim", json={"tasks": [ids[a], ids[b], ids[c]]}), 409, "conflict"
    )
    assert "未认领任何任务" in refused["message"] and "李同事" in refused["message"]
    with app.app_context():
        assert db.session.get(Task, ids[a]).claimed_by_id is None
        assert db.session.get(Task, ids[b]).claimed_by_id is None
    # a and b: both claimed, one event each
    claimed = api.post(STREET, "/tasks/claim", json={"tasks": [ids[a], ids[b]]})
    assert claimed.status_code == 200, claimed.json
    assert [t["claimed_by"]["username"] for t in claimed.json["items"]] == [STREET, STREET]
    # again: already the caller's, nothing changes
    assert api.post(STREET, "/tasks/claim", json={"tasks": [ids[a]]}).status_code == 200
    with app.app_context():
        claims = db.session.scalars(select(Event).where(Event.kind == "task_claimed")).all()
        assert sorted(e.case_id for e in claims) == sorted([a, b, c])
    # another agency's task is not found; bad bodies name the field
    brigade_case = api.register(days_ago=1)["id"]
    other = api.task_id(STREET, brigade_case, "refer_to_fire_rescue")
    assert_error(api.post(OTHER_BRIGADE, "/tasks/claim", json={"tasks": [other]}), 404, "not_found")
    assert_error(api.post(STREET, "/tasks/claim", json={"tasks": []}), 422, "invalid", {"tasks"})
    assert_error(api.post(STREET, "/tasks/claim", json={"tasks": "x"}), 422, "invalid", {"tasks"})
    assert_error(api.post(STREET, "/tasks/claim", json={}), 422, "invalid", {"tasks"})


def test_api_reassign(app: Flask, api: Api, colleague: str) -> None:
    a, _b, _c = three_cases(api)
    task_id = api.task_id(STREET, a, "refer_to_fire_rescue")
    # not claimed by the caller: 409
    assert_error(
        api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": colleague}), 409, "conflict"
    )
    assert api.post(STREET, f"/tasks/{task_id}/claim").status_code == 200
    # a user of another agency, or nobody: 404; the body is checked
    assert_error(
        api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": BRIGADE}), 404, "not_found"
    )
    assert_error(
        api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": "nobody"}), 404, "not_found"
    )
    assert_error(api.post(STREET, f"/tasks/{task_id}/reassign", json={}), 422, "invalid", {"to"})
    assert_error(
        api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": STREET}), 422, "invalid", {"to"}
    )
    # another agency's officer cannot see the task at all
    assert_error(
        api.post(BRIGADE, f"/tasks/{task_id}/reassign", json={"to": colleague}), 404, "not_found"
    )
    moved = api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": colleague})
    assert moved.status_code == 200, moved.json
    assert moved.json["claimed_by"]["username"] == colleague
    # recorded in the case's chain, and the colleague is told
    events = api.get(STREET, f"/cases/{a}/events").json["items"]
    last = events[-1]
    assert last["kind"] == "task_reassigned" and last["data"]["to"] == colleague
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == colleague))
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == user.id)
        ).all()
        # (the late agency's officers also hear of its missed deadlines: escalations)
        notes = [n for n in notes if n.kind != "escalation"]
        assert [(n.kind, n.case_id) for n in notes] == [("reassigned", a)]
        assert "转办" in notes[0].title
    # now the colleague's: the first officer can no longer hand it on
    assert_error(
        api.post(STREET, f"/tasks/{task_id}/reassign", json={"to": colleague}), 409, "conflict"
    )
    # a completed task cannot be reassigned: 409
    api.complete(colleague, a, "refer_to_fire_rescue")
    done = assert_error(
        api.post(colleague, f"/tasks/{task_id}/reassign", json={"to": STREET}), 409, "conflict"
    )
    assert done["message"] == "该任务已办结"


# --- the HTML inbox ------------------------------------------------------------------------------


def login(client: FlaskClient, auth: Auth, username: str) -> None:
    assert auth.login(username).status_code == 302


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td data-label=\"案件编号\">.*?</tr>", html, re.S)


def test_html_search_sort_district_and_new_mark(api: Api, client: FlaskClient, auth: Auth) -> None:
    three_cases(api)
    login(client, auth, STREET)
    page = client.get("/")
    units = [re.search(r"甲乙商贸|丙丁酒店|戊己养老院", r).group(0) for r in rows(page.text)]
    assert units == ["甲乙商贸", "丙丁酒店", "戊己养老院"]
    assert page.text.count('class="badge badge-new"') == 3 and "到达时间" in page.text
    assert 'aria-sort="ascending"' in page.text  # the due column is the default order
    # the district filter offers only 武陵区 to a street of 武陵区
    district_select = re.search(r'<select[^>]*name="district".*?</select>', page.text, re.S).group(
        0
    )
    assert "武陵区" in district_select and "鼎城区" not in district_select
    found = client.get("/?q=建设路")
    assert [re.search(r"丙丁酒店", r) is not None for r in rows(found.text)] == [True]
    # the total: summed from the step filter's counts unfiltered, counted when narrowed
    assert "共 3 项待办" in page.text and "共 1 项待办" in found.text
    step = re.search(r'<select[^>]*name="stage".*?value="([^"]+)"', page.text, re.S).group(1)
    assert "共 3 项待办" in client.get(f"/?stage={step}").text
    assert "共 3 项待办" in client.get("/?sort=unit&order=desc").text
    desc = client.get("/?sort=due&order=desc")
    units = [re.search(r"甲乙商贸|丙丁酒店|戊己养老院", r).group(0) for r in rows(desc.text)]
    assert units == ["戊己养老院", "丙丁酒店", "甲乙商贸"]
    assert 'aria-sort="descending"' in desc.text
    # a sort link keeps the search
    unit_link = re.search(r'href="([^"]*sort=unit[^"]*)"', found.text).group(1)
    assert "q=%E5%BB%BA%E8%AE%BE%E8%B7%AF" in unit_link and "order=asc" in unit_link


def test_a_city_level_agency_is_offered_every_district(app: Flask) -> None:
    from server.queries import served_districts
    from workflows.jurisdiction import DIVISIONS

    with app.app_context():
        city = db.session.scalar(
            select(User).join(User.agency).where(User.username == "city.supervisor")
        )
        street = db.session.scalar(select(User).where(User.username == STREET))
        assert served_districts(city) == DIVISIONS
        assert [d.code for d in served_districts(street)] == ["wuling"]


def test_html_bulk_claim_and_reassign(
    app: Flask, api: Api, client: FlaskClient, auth: Auth, colleague: str
) -> None:
    a, b, c = three_cases(api)
    ids = [api.task_id(STREET, cid, "refer_to_fire_rescue") for cid in (a, b, c)]
    login(client, auth, STREET)
    page = client.get("/")
    assert page.text.count('form="bulk-claim"') == 3
    token = csrf_token(page.text)
    response = client.post("/inbox/claim", data={"task": ids[:2], "csrf_token": token, "next": "/"})
    assert response.status_code == 303
    page = client.get("/")
    assert "已认领 2 项任务" in page.text
    assert page.text.count('form="bulk-claim"') == 1  # only c is left to claim
    assert page.text.count('action="/inbox/') >= 2  # 转办 forms on the two claimed rows
    assert "李同事" in page.text
    # nothing selected
    client.post("/inbox/claim", data={"csrf_token": token})
    assert "请先勾选要认领的任务" in client.get("/").text
    # 转办 to the colleague
    response = client.post(
        f"/inbox/{ids[0]}/reassign", data={"to": colleague, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303
    assert "已转办" in client.get("/").text
    with app.app_context():
        assert db.session.get(Task, ids[0]).claimed_by.username == colleague
    # another agency's user: 404; a task not claimed by the user: a message, nothing changes
    assert (
        client.post(
            f"/inbox/{ids[1]}/reassign", data={"to": BRIGADE, "csrf_token": token}
        ).status_code
        == 404
    )
    client.post(f"/inbox/{ids[2]}/reassign", data={"to": colleague, "csrf_token": token})
    assert "只能转办本人认领的任务" in client.get("/").text
    # the reassignment is in the case's timeline
    assert (
        "转办" in client.get(f"/cases/{a}").text and "转给 李同事" in client.get(f"/cases/{a}").text
    )


def test_two_bulk_claims_at_once_never_share_a_task(app: Flask, api: Api, colleague: str) -> None:
    """Two officers bulk-claim overlapping sets at the same moment (PostgreSQL: row locks):
    one gets all of its tasks, the other none of the shared one and is told; no task is
    claimed twice, nothing is half claimed."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time; set DUBAN_TEST_POSTGRES")
    import threading

    a, b, c = three_cases(api)
    ids = [api.task_id(STREET, cid, "refer_to_fire_rescue") for cid in (a, b, c)]
    plans = {STREET: [ids[0], ids[1]], colleague: [ids[2], ids[1]]}
    headers = {user: api.headers(user) for user in plans}
    answers: dict[str, int] = {}
    barrier = threading.Barrier(len(plans))

    def claim(user: str) -> None:
        http = app.test_client()
        barrier.wait()
        response = http.post(
            "/api/v1/tasks/claim", json={"tasks": plans[user]}, headers=headers[user]
        )
        answers[user] = response.status_code

    threads = [threading.Thread(target=claim, args=(user,)) for user in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409], answers
    winner = next(user for user, status in answers.items() if status == 200)
    with app.app_context():
        holders = {
            t.id: (t.claimed_by.username if t.claimed_by else None)
            for t in db.session.scalars(select(Task).where(Task.id.in_(ids)))
        }
    assert {i: holders[i] for i in plans[winner]} == dict.fromkeys(plans[winner], winner)
    loser_only = next(i for user in plans if user != winner for i in plans[user] if i != ids[1])
    assert holders[loser_only] is None  # all or nothing
