"""Administration in the browser and its API twins: users, agencies, contact lists, and the
password change every user has on /account (issue 18)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import Agency, AgencyContact, Event, User
from tests.support.api import Api

from .conftest import PASSWORD, Auth, csrf_token

ADMIN = "admin"
NEW_PASSWORD = "a-new-password-42"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def events(app: Flask, kind: str) -> list[dict[str, Any]]:
    """The data of the system chain's events of ``kind``, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(Event).where(Event.case_id.is_(None), Event.kind == kind).order_by(Event.seq)
        )
        return [{**row.data, "actor": row.actor.username if row.actor else None} for row in rows]


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None):
    """POST a form with the CSRF token of ``page`` (or of ``path``)."""
    token = csrf_token(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token})


def admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert Auth(app, client).login(ADMIN).status_code == 302
    return client


# --------------------------------------------------------------------------- users, HTML


def test_users_page_lists_and_filters(app: Flask) -> None:
    client = admin(app)
    page = client.get("/admin/users")
    assert page.status_code == 200
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
    assert f"共 {users} 个用户" in text_of(page.text) and 'rel="next"' in page.text  # paged
    found = client.get("/admin/users?q=supervisor")
    assert "city.supervisor" in found.text and "wuling.fire" not in found.text
    filtered = client.get("/admin/users?agency=fire_brigade:wuling&role=officer&active=1")
    assert "wuling.fire" in filtered.text and "city.supervisor" not in filtered.text
    assert "共 1 个用户" in text_of(filtered.text)
    supervisors = text_of(client.get("/admin/users?role=supervisor&q=city").text)
    assert "city.supervisor" in supervisors and "city.auditor" not in supervisors
    # administrators get the links in the header
    assert 'href="/admin/users"' in page.text and 'href="/admin/agencies"' in page.text


def test_create_user_with_a_generated_password_shown_once(app: Flask) -> None:
    client = admin(app)
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "wuling.fire2",
            "name": "武陵大队新承办人",
            "agency": "fire_brigade:wuling",
            "roles": ["officer"],
            "password": "",
        },
    )
    assert response.status_code == 201
    password = re.search(r'<p class="password-once"><code>([^<]+)</code>', response.text)
    assert password, response.text
    assert "密码只在此显示一次" in response.text
    # the new user logs in with it
    other = app.test_client()
    assert Auth(app, other).login("wuling.fire2", password.group(1)).status_code == 302
    assert "fire_brigade:wuling" in events(app, "user_created")[-1]["agency"]
    assert events(app, "user_created")[-1]["actor"] == ADMIN
    # the password is in no later page
    assert password.group(1) not in client.get("/admin/users/wuling.fire2").text


def test_create_user_validation_is_422_and_keeps_what_was_typed(app: Flask) -> None:
    client = admin(app)
    response = post(
        client,
        "/admin/users/new",
        {"username": "Bad Name", "name": "", "agency": "nowhere", "password": "short"},
    )
    assert response.status_code == 422
    text = text_of(response.text)
    assert "有5处需要修改" in text
    assert "用户名应为2至80个小写字母" in text and "请填写姓名" in text
    assert "没有这个单位" in text and "请至少选择一个角色" in text and "密码至少 10 个字符" in text
    assert 'value="Bad Name"' in response.text and 'value="short"' not in response.text
    taken = post(
        client,
        "/admin/users/new",
        {
            "username": "wuling.fire",
            "name": "重名",
            "agency": "fire_brigade:wuling",
            "roles": "officer",
        },
    )
    assert taken.status_code == 409 and "用户名 wuling.fire 已被使用" in taken.text
    reserved = post(
        client,
        "/admin/users/new",
        {"username": "new", "name": "x", "agency": "fire_brigade:wuling", "roles": "officer"},
    )
    assert reserved.status_code == 422 and "系统保留" in reserved.text
    assert not events(app, "user_created")


def test_edit_user_name_agency_and_roles(app: Flask) -> None:
    client = admin(app)
    response = post(
        client,
        "/admin/users/wuling.fire",
        {
            "name": "武陵大队承办人（改）",
            "agency": "fire_brigade:dingcheng",
            "roles": ["officer", "supervisor"],
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "已保存用户 wuling.fire" in page.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wuling.fire"))
        assert user.name == "武陵大队承办人（改）" and user.agency.code == "fire_brigade:dingcheng"
        assert user.role_list == ["officer", "supervisor"]
    changes = events(app, "user_updated")[-1]["changes"]
    assert changes["agency"] == ["fire_brigade:wuling", "fire_brigade:dingcheng"]
    assert changes["roles"] == [["officer"], ["officer", "supervisor"]]
    bad = post(client, "/admin/users/wuling.fire", {"name": "x", "agency": "fire_brigade:wuling"})
    assert bad.status_code == 422 and "请至少选择一个角色" in bad.text
    # an administrator cannot take their own administrator role away
    own = post(
        client,
        "/admin/users/admin",
        {"name": "管理员", "agency": "fire_detachment:city", "roles": ["officer"]},
    )
    assert own.status_code == 422 and "不能取消自己的管理员角色" in own.text


def test_deactivated_user_cannot_log_in_and_loses_sessions_and_tokens(app: Flask) -> None:
    victim = app.test_client()
    victim_auth = Auth(app, victim)
    assert victim_auth.login("wuling.fire").status_code == 302
    headers = victim_auth.token("wuling.fire")
    client = admin(app)
    response = post(
        client, "/admin/users/wuling.fire/active", {"active": "0"}, page="/admin/users/wuling.fire"
    )
    assert response.status_code == 303
    assert "1 个 API 令牌已作废" in client.get(response.headers["Location"]).text
    assert victim.get("/").status_code == 302  # the session ended
    assert victim.get("/api/v1/me", headers=headers).status_code == 401
    assert Auth(app, app.test_client()).login("wuling.fire").status_code == 401
    assert events(app, "user_deactivated")[-1] == {
        "username": "wuling.fire",
        "tokens_revoked": 1,
        "actor": ADMIN,
    }
    assert "已停用" in client.get("/admin/users?active=0").text
    # reactivated: the old password works again
    post(
        client, "/admin/users/wuling.fire/active", {"active": "1"}, page="/admin/users/wuling.fire"
    )
    assert Auth(app, app.test_client()).login("wuling.fire").status_code == 302
    assert events(app, "user_reactivated")[-1]["username"] == "wuling.fire"
    # nobody deactivates themselves
    self_off = post(client, "/admin/users/admin/active", {"active": "0"}, page="/admin/users/admin")
    assert "不能停用自己的账户" in client.get(self_off.headers["Location"]).text


def test_password_reset_revokes_sessions_and_tokens(app: Flask) -> None:
    victim = app.test_client()
    victim_auth = Auth(app, victim)
    victim_auth.login("wuling.fire")
    headers = victim_auth.token("wuling.fire")
    client = admin(app)
    short = post(
        client,
        "/admin/users/wuling.fire/password",
        {"password": "short"},
        page="/admin/users/wuling.fire",
    )
    assert short.status_code == 422 and "密码至少 10 个字符" in short.text
    response = post(
        client,
        "/admin/users/wuling.fire/password",
        {"password": ""},
        page="/admin/users/wuling.fire",
    )
    assert response.status_code == 200
    password = re.search(r'<p class="password-once"><code>([^<]+)</code>', response.text).group(1)
    assert victim.get("/").status_code == 302
    assert victim.get("/api/v1/me", headers=headers).status_code == 401
    assert Auth(app, app.test_client()).login("wuling.fire", password).status_code == 302
    assert events(app, "password_reset")[-1] == {
        "username": "wuling.fire",
        "tokens_revoked": 1,
        "actor": ADMIN,
    }


def test_non_admins_are_refused(app: Flask) -> None:
    for username in ("wuling.fire", "city.supervisor", "city.auditor"):
        client = app.test_client()
        Auth(app, client).login(username)
        for path in (
            "/admin/users",
            "/admin/users/new",
            "/admin/users/admin",
            "/admin/agencies",
            "/admin/agencies/fire_brigade:wuling",
        ):
            assert client.get(path).status_code == 404, (username, path)
        token = csrf_token(client.get("/account").text)
        response = client.post("/admin/users/admin/password", data={"csrf_token": token})
        assert response.status_code == 404
        assert 'href="/admin/users"' not in client.get("/account").text
    assert not events(app, "password_reset")


# --------------------------------------------------------------------------- password change


def test_every_role_changes_their_own_password_on_the_account_page(app: Flask) -> None:
    for username in ("wuling.fire", "city.supervisor", "city.auditor", "admin"):
        client = app.test_client()
        Auth(app, client).login(username)
        page = client.get("/account")
        assert 'href="/account"' in page.text and "修改密码" in page.text  # linked in the header
        response = client.post(
            "/account/password",
            data={
                "csrf_token": csrf_token(page.text),
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert response.status_code == 303, (username, response.text)
        assert Auth(app, app.test_client()).login(username, NEW_PASSWORD).status_code == 302
    assert len(events(app, "password_changed")) == 4


# --------------------------------------------------------------------------- agencies, HTML


def test_agency_create_edit_and_contacts(app: Flask) -> None:
    client = admin(app)
    assert "武陵区消防救援大队" in client.get("/admin/agencies?division=wuling").text
    missing = post(
        client, "/admin/agencies/new", {"kind": "street", "division": "wuling", "name": "芙蓉街道"}
    )
    assert missing.status_code == 422 and "须填写代码后缀" in missing.text
    created = post(
        client,
        "/admin/agencies/new",
        {
            "kind": "street",
            "division": "wuling",
            "suffix": "furong",
            "name": "武陵区芙蓉街道",
            "parent": "government:wuling",
            "doc_code": "芙街",
            "can_discover": "1",
        },
    )
    assert created.status_code == 303
    assert created.headers["Location"].endswith("/admin/agencies/street:wuling:furong")
    duplicate = post(
        client,
        "/admin/agencies/new",
        {"kind": "street", "division": "wuling", "suffix": "furong", "name": "重复"},
    )
    assert duplicate.status_code == 409 and "已存在" in duplicate.text
    url = "/admin/agencies/street:wuling:furong"
    edited = post(
        client, url, {"name": "武陵区芙蓉街道办事处", "parent": "government:wuling", "doc_code": ""}
    )
    assert edited.status_code == 303
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == "street:wuling:furong"))
        assert agency.name == "武陵区芙蓉街道办事处" and agency.doc_code is None
        assert agency.parent.code == "government:wuling" and not agency.can_discover
    assert events(app, "agency_created")[-1]["code"] == "street:wuling:furong"
    assert events(app, "agency_updated")[-1]["changes"]["doc_code"] == ["芙街", None]
    cycle = post(
        client,
        "/admin/agencies/government:wuling",
        {"name": "武陵区人民政府", "parent": "street:wuling:furong"},
    )
    assert cycle.status_code == 422 and "上级单位不能是本单位或其下级单位" in cycle.text

    # the contact list
    bad = post(client, url + "/contacts", {"name": "", "phone": "abc", "email": "nope"}, page=url)
    assert bad.status_code == 422
    assert "请填写姓名" in bad.text and "电话只能包含数字" in bad.text
    assert "电子邮箱格式不正确" in bad.text
    added = post(
        client,
        url + "/contacts",
        {"name": "张三", "title": "值班主任", "phone": "0736-1234567", "email": "zs@example.cn"},
        page=url,
    )
    assert added.status_code == 303
    with app.app_context():
        contact_id = db.session.scalar(select(AgencyContact.id))
    changed = post(
        client,
        f"{url}/contacts/{contact_id}",
        {"name": "张三", "title": "主任", "phone": "0736-7654321", "email": ""},
        page=url,
    )
    assert changed.status_code == 303
    page = client.get(url)
    assert 'value="主任"' in page.text and 'value="0736-7654321"' in page.text
    assert events(app, "contact_updated")[-1]["changes"]["title"] == ["值班主任", "主任"]
    removed = post(client, f"{url}/contacts/{contact_id}", {"remove": "1"}, page=url)
    assert removed.status_code == 303
    assert events(app, "contact_removed")[-1]["name"] == "张三"
    assert (
        client.post(f"{url}/contacts/9999", data={"csrf_token": csrf_token(page.text)}).status_code
        == 404
    )


def test_contact_list_is_read_by_the_agency_and_its_supervisors(app: Flask, api: Api) -> None:
    response = api.call(
        ADMIN,
        "POST",
        "/agencies/fire_brigade:wuling/contacts",
        json={"name": "李四", "title": "大队长", "phone": "0736-1111111"},
    )
    assert response.status_code == 201
    path = "/contacts/fire_brigade:wuling"
    for username, status in (
        ("wuling.fire", 200),
        ("wuling.supervisor", 200),
        ("city.supervisor", 200),
        ("admin", 200),
        ("dingcheng.supervisor", 404),
        ("wuling.gov", 404),
        ("wuling.auditor", 404),
    ):
        client = app.test_client()
        Auth(app, client).login(username)
        page = client.get(path)
        assert page.status_code == status, username
        if status == 200:
            assert "李四" in page.text and "大队长" in page.text
        api_status = api.get(username, "/agencies/fire_brigade:wuling/contacts").status_code
        assert api_status == status, username
    # an officer's 通讯录 link shows the own agency's list at once
    client = app.test_client()
    Auth(app, client).login("wuling.fire")
    own = client.get("/contacts").text
    assert "武陵区消防救援大队通讯录" in own and "李四" in own
    assert 'href="/contacts"' in client.get("/account").text  # linked from the account page


# --------------------------------------------------------------------------- the API twins


def test_api_users(app: Flask, api: Api) -> None:
    listed = api.get(ADMIN, "/users?agency=fire_brigade:wuling&role=officer&active=true").json
    assert [u["username"] for u in listed["items"]] == ["wuling.fire"]
    assert listed["total"] == 1
    assert api.get(ADMIN, "/users?role=nobody").status_code == 422
    created = api.post(
        ADMIN,
        "/users",
        json={
            "username": "api.user",
            "name": "接口用户",
            "agency": "street:wuling:nanping",
            "roles": ["officer"],
        },
    )
    assert created.status_code == 201
    body = created.json
    assert body["roles"] == ["officer"] and len(body["password"]) >= 10
    assert api.auth.token("api.user", body["password"])
    given = api.post(
        ADMIN,
        "/users",
        json={
            "username": "api.user2",
            "name": "接口用户二",
            "agency": "street:wuling:nanping",
            "roles": ["officer"],
            "password": NEW_PASSWORD,
        },
    )
    assert given.status_code == 201 and given.json["password"] is None
    invalid = api.post(
        ADMIN,
        "/users",
        json={"username": "x y", "name": "", "agency": "nowhere", "roles": ["boss"]},
    )
    assert invalid.status_code == 422
    assert set(invalid.json["fields"]) == {"username", "name", "agency", "roles"}
    assert (
        api.post(
            ADMIN,
            "/users",
            json={
                "username": "api.user",
                "name": "x",
                "agency": "street:wuling:nanping",
                "roles": ["officer"],
            },
        ).status_code
        == 409
    )
    assert api.post(ADMIN, "/users", json={"username": "a.b"}).json["fields"] == {
        "name": "必填",
        "agency": "必填",
        "roles": "必填",
    }

    user = api.get(ADMIN, "/users/api.user").json
    assert user == {
        "username": "api.user",
        "name": "接口用户",
        "agency": "street:wuling:nanping",
        "agency_name": "武陵区南坪街道",
        "roles": ["officer"],
        "active": True,
    }
    patched = api.call(
        ADMIN,
        "PATCH",
        "/users/api.user",
        json={"name": "接口用户（改）", "roles": ["officer", "auditor"]},
    )
    assert patched.status_code == 200 and patched.json["roles"] == ["officer", "auditor"]
    assert api.call(ADMIN, "PATCH", "/users/api.user", json={"roles": []}).status_code == 422
    assert api.call(ADMIN, "PATCH", "/users/nobody", json={"name": "x"}).status_code == 404

    # reset: the user's tokens end
    headers = api.auth.token("api.user", body["password"])
    reset = api.post(ADMIN, "/users/api.user/password", json={})
    assert reset.status_code == 200 and reset.json["tokens_revoked"] == 2
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert api.auth.token("api.user", reset.json["password"])
    assert api.post(ADMIN, "/users/api.user/password", json={"password": "short"}).json[
        "fields"
    ] == {"password": "密码至少 10 个字符"}

    # deactivation through PATCH
    headers = api.auth.token("api.user", reset.json["password"])
    off = api.call(ADMIN, "PATCH", "/users/api.user", json={"active": False})
    assert off.status_code == 200 and off.json["active"] is False
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    login = app.test_client().post(
        "/api/v1/tokens", json={"username": "api.user", "password": reset.json["password"]}
    )
    assert login.status_code == 401
    assert api.call(ADMIN, "PATCH", "/users/admin", json={"active": False}).status_code == 409
    kinds = [e["username"] for e in events(app, "user_deactivated")]
    assert kinds == ["api.user"]


def test_api_agencies_and_contacts(app: Flask, api: Api) -> None:
    listed = api.get(ADMIN, "/agencies?division=wuling&kind=fire_brigade").json
    assert [a["code"] for a in listed["items"]] == ["fire_brigade:wuling"]
    assert listed["items"][0]["doc_code_in_use"]
    created = api.post(
        ADMIN,
        "/agencies",
        json={
            "kind": "industry",
            "division": "wuling",
            "suffix": "zhujian",
            "name": "武陵区住建局",
            "parent": "government:wuling",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["code"] == "industry:wuling:zhujian"
    assert created.json["parent"] == "government:wuling" and created.json["doc_code"] is None
    assert (
        api.post(
            ADMIN,
            "/agencies",
            json={"kind": "industry", "division": "wuling", "suffix": "zhujian", "name": "重复"},
        ).status_code
        == 409
    )
    bad = api.post(ADMIN, "/agencies", json={"kind": "bank", "division": "mars", "name": ""})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"kind", "division", "name"}
    code = "industry:wuling:zhujian"
    patched = api.call(ADMIN, "PATCH", f"/agencies/{code}", json={"doc_code": "武住"})
    assert patched.json["doc_code"] == "武住" and patched.json["doc_code_in_use"] == "武住"
    fixed = api.call(ADMIN, "PATCH", f"/agencies/{code}", json={"kind": "street"})
    assert fixed.status_code == 422 and fixed.json["fields"] == {"kind": "不支持的字段"}
    assert api.get(ADMIN, f"/agencies/{code}").json["name"] == "武陵区住建局"
    assert api.get(ADMIN, "/agencies/nowhere:x").status_code == 404

    contacts = f"/agencies/{code}/contacts"
    assert api.get(ADMIN, contacts).json == {"agency": code, "items": []}
    added = api.post(ADMIN, contacts, json={"name": "王五", "email": "ww@example.cn"})
    assert added.status_code == 201
    contact_id = added.json["id"]
    assert api.post(ADMIN, contacts, json={"name": "x", "email": "bad"}).json["fields"] == {
        "email": "电子邮箱格式不正确"
    }
    changed = api.call(ADMIN, "PATCH", f"{contacts}/{contact_id}", json={"title": "科长"})
    assert changed.json == {
        "id": contact_id,
        "name": "王五",
        "title": "科长",
        "phone": "",
        "email": "ww@example.cn",
    }
    assert api.call(ADMIN, "DELETE", f"{contacts}/{contact_id}").status_code == 204
    assert api.call(ADMIN, "DELETE", f"{contacts}/{contact_id}").status_code == 404
    assert [e["code"] for e in events(app, "agency_created")] == [code]
    assert events(app, "contact_added")[-1]["name"] == "王五"


def test_api_refuses_non_admins(app: Flask, api: Api) -> None:
    for username in ("wuling.fire", "city.supervisor", "city.auditor"):
        for method, path, body in (
            ("GET", "/users", None),
            (
                "POST",
                "/users",
                {
                    "username": "x.y",
                    "name": "x",
                    "agency": "fire_brigade:wuling",
                    "roles": ["admin"],
                },
            ),
            ("GET", "/users/admin", None),
            ("PATCH", "/users/admin", {"active": False}),
            ("POST", "/users/admin/password", {}),
            ("GET", "/agencies", None),
            (
                "POST",
                "/agencies",
                {"kind": "street", "division": "wuling", "suffix": "x", "name": "x"},
            ),
            ("GET", "/agencies/fire_brigade:wuling", None),
            ("PATCH", "/agencies/fire_brigade:wuling", {"name": "x"}),
            ("POST", "/agencies/fire_brigade:wuling/contacts", {"name": "x"}),
        ):
            kwargs = {"json": body} if body is not None else {}
            response = api.call(username, method, path, **kwargs)
            assert response.status_code == 404, (username, method, path)
    assert api.call(None, "GET", "/users").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "x.y")) is None
    assert not events(app, "user_updated") and not events(app, "user_created")


def test_cli_uses_the_same_service(app: Flask, runner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "cli.user",
            "--name",
            "命令行用户",
            "--agency",
            "fire_brigade:wuling",
            "--roles",
            "officer",
        ],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert events(app, "user_created")[-1] == {
        "username": "cli.user",
        "name": "命令行用户",
        "agency": "fire_brigade:wuling",
        "roles": ["officer"],
        "actor": None,
    }
    bad = runner.invoke(
        args=[
            "users",
            "create",
            "cli.user2",
            "--name",
            "x",
            "--agency",
            "nowhere",
            "--roles",
            "boss",
        ],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert bad.exit_code != 0 and "没有这个单位" in bad.output and "未知的角色" in bad.output
    assert runner.invoke(args=["users", "deactivate", "cli.user"]).exit_code == 0
    assert runner.invoke(args=["users", "reactivate", "cli.user"]).exit_code == 0
    assert events(app, "user_reactivated")[-1]["username"] == "cli.user"


# --------------------------------------------------------------------------- the calendar grid


def day_cell(html: str, iso: str) -> str:
    match = re.search(r'<td class="cal-day[^"]*"[^>]*><time datetime="' + iso + r'">.*?</td>', html)
    assert match, iso
    return match.group(0)


def test_calendar_is_edited_by_clicking_days(app: Flask) -> None:
    from server.engine import get_engine
    from server.models import CalendarYear

    client = admin(app)
    page = client.get("/admin/calendar/2026")
    assert page.text.count('class="cal-toggle"') == 365
    assert "<textarea" not in page.text
    monday = day_cell(page.text, "2026-03-02")
    assert "点击设为节假日休息" in monday and "cal-override" not in monday
    with app.app_context():
        statutory = get_engine().calendar.year_summary(2026)

    # a weekday: 休, then back to a working day
    response = post(client, "/admin/calendar/2026", {"toggle": "2026-03-02"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#m3")
    page = client.get(response.headers["Location"])
    assert "已将3月2日设为节假日休息" in text_of(page.text) and "管理员录入" in page.text
    cell = day_cell(page.text, "2026-03-02")
    assert "cal-holiday" in cell and "cal-override" in cell and 'data-builtin=""' in cell
    assert "系统内置安排为工作日" in cell
    assert "cal-override" not in day_cell(page.text, "2026-10-01")  # as built in
    with app.app_context():
        row = db.session.get(CalendarYear, 2026)
        assert row.holidays == sorted([*statutory["holidays"], "2026-03-02"])
        assert row.workdays == statutory["workdays"]
        assert not get_engine().calendar.is_working_day("2026-03-02")
    changed = events(app, "calendar_changed")[-1]
    assert changed["actor"] == ADMIN and "2026-03-02" in changed["holidays"]
    post(client, "/admin/calendar/2026", {"toggle": "2026-03-02"})
    page = client.get("/admin/calendar/2026")
    assert "cal-override" not in day_cell(page.text, "2026-03-02")
    with app.app_context():
        assert get_engine().calendar.is_working_day("2026-03-02")

    # a weekend day: 休, 班, an ordinary weekend again
    marks = []
    for _ in range(3):
        post(client, "/admin/calendar/2026", {"toggle": "2026-03-07"})
        with app.app_context():
            row = db.session.get(CalendarYear, 2026)
            marks.append(
                ("休" if "2026-03-07" in row.holidays else "")
                + ("班" if "2026-03-07" in row.workdays else "")
            )
    assert marks == ["休", "班", ""]
    assert len(events(app, "calendar_changed")) == 5

    # a 班 on a weekday is refused by the same checks as a whole year
    bad = post(
        client,
        "/admin/calendar/2026",
        {"holidays": "2026-01-01", "workdays": "2026-03-03", "save": "1"},
    )
    assert bad.status_code == 422 and "调休上班日应是星期六或星期日" in text_of(bad.text)
    for value in ("2025-12-31", "yesterday", "2026-02-30"):
        refused = post(client, "/admin/calendar/2026", {"toggle": value})
        assert refused.status_code == 422 and "请在日历上点击本年度的日期" in refused.text
    assert len(events(app, "calendar_changed")) == 5
    officer = app.test_client()
    Auth(app, officer).login("wuling.fire")
    token = csrf_token(officer.get("/account").text)
    refused = officer.post(
        "/admin/calendar/2026", data={"csrf_token": token, "toggle": "2026-03-02"}
    )
    assert refused.status_code == 404


def test_calendar_page_of_a_computed_year_starts_from_the_computed_days(app: Flask) -> None:
    client = admin(app)
    page = client.get("/admin/calendar/2027")
    assert "cal-holiday" in day_cell(page.text, "2027-02-10")  # 春节, computed
    response = post(client, "/admin/calendar/2027", {"toggle": "2027-02-13"})  # a Saturday
    assert response.status_code == 303
    page = client.get("/admin/calendar/2027")
    assert "管理员录入" in page.text
    assert "cal-holiday" in day_cell(page.text, "2027-02-10")  # the computed days were kept
    cell = day_cell(page.text, "2027-02-13")
    assert "cal-holiday" in cell and "cal-override" in cell
    assert "按放假办法推算（暂定，调休未知）不同" in text_of(page.text)
