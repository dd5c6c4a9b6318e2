"""Odd input that used to answer 500 (issue 16, finding 8): page numbers that ``str.isdigit``
accepts and ``int`` does not ('²'), and JSON nested hundreds of levels deep. Each answers a
400/422 in Chinese naming the field."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from tests.support.api import Api, assert_error

from .conftest import Auth
from .test_web import login

CJK = re.compile(r"[\u4e00-\u9fff]")

#: Strings that ``str.isdigit`` accepts but are no ASCII page number.
ODD_DIGITS = ["²", "٣", "１２", "③", "1²"]

#: (path, a user who may see the list) of every paged HTML list.
HTML_LISTS = [
    ("/", "wuling.nanping"),
    ("/cases", "wuling.nanping"),
    ("/notifications", "wuling.nanping"),
    ("/warnings", "wuling.nanping"),
    ("/audit?status=open", "city.auditor"),  # the auditors' search
]


@pytest.mark.parametrize(("path", "user"), HTML_LISTS)
def test_html_lists_refuse_odd_page_numbers(
    client: FlaskClient, auth: Auth, path: str, user: str
) -> None:
    login(client, auth, user)
    joiner = "&" if "?" in path else "?"
    assert client.get(f"{path}{joiner}page=1").status_code == 200
    for value in [*ODD_DIGITS, "abc", "0", "-1", "1.5", "100001", "9" * 5000]:
        response = client.get(f"{path}{joiner}page={quote(value)}")
        assert response.status_code == 400, (path, value, response.status_code)
        assert "页码（page）" in response.text, (path, value)


def test_calendar_year_refuses_odd_digits(client: FlaskClient, auth: Auth) -> None:
    login(client, auth, "admin")
    for value in ODD_DIGITS:
        response = client.get("/admin/calendar", query_string={"year": value})
        assert response.status_code == 302, value  # back to this year, with a message
        assert "年份" in client.get(response.location).text


def test_warning_board_ignores_an_odd_year(client: FlaskClient, auth: Auth) -> None:
    login(client, auth, "wuling.nanping")
    for value in ODD_DIGITS:
        assert client.get("/warnings", query_string={"year": value}).status_code == 200


@pytest.mark.parametrize("name", ["page", "per_page"])
@pytest.mark.parametrize("path", ["/cases", "/inbox", "/deadlines"])
def test_api_refuses_odd_page_numbers_in_chinese(api: Api, path: str, name: str) -> None:
    for value in ODD_DIGITS:
        body = assert_error(
            api.get("city.supervisor", path, query_string={name: value}), 422, "invalid", {name}
        )
        assert CJK.search(body["fields"][name]), body
        assert "int()" not in body["fields"][name] and "invalid literal" not in body["fields"][name]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [33, 400, 700, 990, 5000])
def test_deep_json_to_the_token_endpoint_answers_400(client: FlaskClient, depth: int) -> None:
    for nested in (_deep(depth), _deep_object(depth)):
        body = '{"username": "admin", "password": ' + nested + "}"
        response = client.post("/api/v1/tokens", data=body, content_type="application/json")
        found = assert_error(response, 400, "bad_request")
        assert "嵌套" in found["message"] or "JSON" in found["message"], found


@pytest.mark.parametrize("depth", [33, 400, 990])
def test_deep_json_to_an_authenticated_endpoint_answers_400(api: Api, depth: int) -> None:
    body = '{"process": "major_hazard", "data": {"unit_name": ' + _deep(depth) + "}}"
    response = api.post("wuling.nanping", "/cases", data=body, content_type="application/json")
    found = assert_error(response, 400, "bad_request")
    assert "嵌套" in found["message"], found
    assert api.get("wuling.nanping", "/cases").json["total"] == 0


def test_json_as_deep_as_allowed_still_reaches_validation(api: Api) -> None:
    """32 levels (the body object included) pass the depth check; the schema refuses them."""
    nested = json.loads(_deep(30))
    response = api.post(
        "wuling.nanping", "/cases", json={"process": "major_hazard", "data": {"unit_name": nested}}
    )
    assert_error(response, 422, "invalid")


def test_the_one_integer_parser() -> None:
    from server.parsing import positive_int

    assert positive_int("1", 100) == 1
    assert positive_int("007", 100) == 7
    assert positive_int("2100", 2100, minimum=2000) == 2100
    for value in [*ODD_DIGITS, "", " 1", "1 ", "+1", "-1", "0", "101", "1_0", "0x1", "1\n"]:
        with pytest.raises(ValueError, match="应为1至100之间的整数"):
            positive_int(value, 100)


def test_json_depth_is_counted_without_recursion() -> None:
    from server.parsing import JsonTooDeep, loads_json, nesting_depth

    assert nesting_depth(1, 32) == 0
    assert nesting_depth({"a": [1, {"b": []}]}, 32) == 4
    assert nesting_depth(json.loads(_deep(900)), 32) == 33  # stops counting past the limit
    assert loads_json(_deep(32)) == json.loads(_deep(32))
    for text in (_deep(33), _deep_object(33), _deep(100_000)):
        with pytest.raises(JsonTooDeep, match="嵌套超过32层"):
            loads_json(text)


def test_flask_get_json_has_the_same_depth_limit(app: Flask) -> None:
    """No view calls ``request.get_json`` today; one that does gets the limit all the same."""
    from werkzeug.exceptions import BadRequest

    with (
        app.test_request_context(
            "/", method="POST", data=_deep(500), content_type="application/json"
        ),
        pytest.raises(BadRequest),
    ):
        request.get_json()
    with app.test_request_context(
        "/", method="POST", data=_deep(3), content_type="application/json"
    ):
        assert request.get_json() == [[[]]]
