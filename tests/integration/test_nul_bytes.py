"""A NUL byte anywhere in a request is refused before it reaches the database (PostgreSQL text
cannot hold one, so it used to answer 500 there; found by the fuzzing)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.integration.conftest import Auth, csrf_token
from tests.support.api import Api

NUL = "\x00"


def test_api_query_parameters_with_a_nul_answer_422_with_the_field(api: Api) -> None:
    for path, field in [
        (f"/deadlines?agency={NUL}", "agency"),
        (f"/cases?q=a{NUL}b", "q"),
        (f"/warnings?year=20{NUL}26", "year"),
    ]:
        response = api.get("city.supervisor", path)
        assert response.status_code == 422, (path, response.json)
        assert field in response.json["fields"], path


def test_a_nul_in_a_path_a_body_or_a_form_answers_400(api: Api, client: FlaskClient) -> None:
    headers = api.headers("wuling.nanping")
    for method, path, kwargs in [
        ("GET", f"/api/v1/tasks/{NUL}", {"headers": headers}),
        ("POST", f"/api/v1/tasks/a{NUL}/claim", {"headers": headers}),
        ("GET", f"/cases?q={NUL}", {}),
    ]:
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == 400, (method, path, response.status_code)


def test_a_json_body_with_a_nul_answers_422_with_the_field(api: Api, client: FlaskClient) -> None:
    response = client.post("/api/v1/tokens", json={"username": f"x{NUL}", "password": "p"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"username"}
    nested = {"data": {"unit_name": "单位", "elements": [f"6.{NUL}5"]}}
    response = client.post("/api/v1/cases", json={"process": "major_hazard", **nested},
                           headers=api.headers("wuling.nanping"))  # fmt: skip
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"data"}


def test_the_login_form_with_a_nul_answers_400(client: FlaskClient, auth: Auth) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": f"wuling{NUL}", "password": "x", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 400
