"""The procedure verdict (简易程序/一般程序) and its basis are shown wherever the other fire
verdicts are: the case page and the dossier; registrations made before the verdict existed show
the procedure their process version took."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from pypdf import PdfReader

from server.case_view import verdict_lines
from tests.integration.conftest import Auth
from tests.support.api import Api

BRIGADE = "dingcheng.fire"


def test_the_case_page_shows_the_procedure_and_its_basis(
    api: Api, client: FlaskClient, auth: Auth
) -> None:
    # No death, not a crowded place or a factory: not investigated along the whole chain, but a
    # minor injury rules the simplified procedure out (《火灾事故调查规定》 ch. 3 (一)).
    case = api.register_fire(BRIGADE, site_type="residence", direct_loss=30000, minor_injuries=1)
    names = {t["name"] for t in case["tasks"]}
    assert {"cause_investigation", "responsibility_investigation"} <= names
    assert "simplified_determination" not in names
    auth.login(BRIGADE)
    page = client.get(f"/cases/{case['id']}").text
    assert "调查程序" in page and "一般程序" in page
    assert "有人员受伤（含轻伤）" in page
    simple = api.register_fire(BRIGADE, site_type="residence", direct_loss=30000)
    page = client.get(f"/cases/{simple['id']}").text
    assert "简易程序" in page and "同时具备四项条件" in page


def test_the_dossier_names_the_procedure(api: Api) -> None:
    case = api.register_fire(
        BRIGADE, site_type="residence", direct_loss=30000, arson_suspected=True
    )
    response = api.post("city.auditor", f"/cases/{case['id']}/dossier.pdf")
    assert response.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages[:3])
    assert "调查程序：一般程序" in text.replace(" ", "")


def test_a_registration_recorded_before_the_procedure_verdict_shows_the_path_it_took() -> None:
    old = {"fire_level": "general", "investigation_mandatory": False, "investigation_basis": "…"}
    lines = {line.label: line for line in verdict_lines(old)}
    assert lines["调查程序"].value == "简易程序"
    assert "本案登记时的流程版本" in lines["调查程序"].basis
    mandatory = {**old, "investigation_mandatory": True}
    assert {line.label: line.value for line in verdict_lines(mandatory)}["调查程序"] == "一般程序"
    assert "调查程序" not in {line.label for line in verdict_lines({"judgement_major": True})}
