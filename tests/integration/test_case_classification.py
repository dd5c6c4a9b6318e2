"""A supervisor corrects a hazard's campaign area and responsible department
(server.operations.reclassify_case): the page form, the API twin, the chain, the lists."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Case, Event

from .conftest import csrf_token

BODY = {
    "campaign_area": "high_rise",
    "responsible_department": "industry:city:zhujian",
    "reason": "复核现场：该建筑高度超过54米，属高层住宅",
}


def _events(app, case_id: int) -> list[Event]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Event).where(Event.case_id == case_id, Event.kind == "case_reclassified")
            )
        )


def test_api_reclassifies_records_the_change_and_the_lists_follow(app, api):
    case = api.register(campaign_area="other")
    answer = api.call("wuling.supervisor", "PUT", f"/cases/{case['id']}/classification", json=BODY)
    assert answer.status_code == 200, answer.text
    assert answer.json["campaign_area"] == "high_rise"
    assert answer.json["campaign_area_name"] == "高层建筑"
    assert answer.json["responsible_department"]["code"] == "industry:city:zhujian"
    [event] = _events(app, case["id"])
    assert event.data["from"] == {"campaign_area": "other", "responsible_department": None}
    assert event.data["to"] == {
        "campaign_area": "high_rise",
        "responsible_department": "industry:city:zhujian",
    }
    assert event.data["reason"] == BODY["reason"]
    detail = api.get("wuling.supervisor", f"/cases/{case['id']}").json
    assert detail["campaign_area"] == "high_rise"
    assert detail["classification"]["campaign_area_name"] == "高层建筑"
    listed = api.get("city.supervisor", "/reports/lists/problems?area=high_rise").json
    assert [row["number"] for row in listed["items"]] == [case["number"]]
    # the same values again: nothing written
    again = api.call("wuling.supervisor", "PUT", f"/cases/{case['id']}/classification", json=BODY)
    assert again.status_code == 200
    assert len(_events(app, case["id"])) == 1
    # the chain still verifies with the new event
    assert api.get("wuling.supervisor", f"/cases/{case['id']}/events").status_code == 200


def test_api_refuses_bad_input_and_others_and_changes_nothing(app, api):
    case = api.register(campaign_area="other")
    path = f"/cases/{case['id']}/classification"
    for body, field in (
        ({**BODY, "campaign_area": "moon"}, "campaign_area"),
        ({**BODY, "responsible_department": "fire_brigade:wuling"}, "responsible_department"),
        ({**BODY, "reason": "  "}, "reason"),
        ({"campaign_area": "high_rise"}, "reason"),
    ):
        answer = api.call("wuling.supervisor", "PUT", path, json=body)
        assert answer.status_code == 422 and field in answer.json["fields"], answer.text
    assert api.call("wuling.nanping", "PUT", path, json=BODY).status_code == 404  # an officer
    assert api.call("dingcheng.supervisor", "PUT", path, json=BODY).status_code == 404
    fire = api.register_fire("wuling.fire", district="wuling")
    answer = api.call("wuling.supervisor", "PUT", f"/cases/{fire['id']}/classification", json=BODY)
    assert answer.status_code == 409
    assert _events(app, case["id"]) == []
    with app.app_context():
        assert db.session.get(Case, case["id"]).campaign_area == "other"


def test_case_page_form_reclassifies_and_shows_errors(app, api, auth, client):
    case = api.register(campaign_area="other")
    auth.login("wuling.supervisor")
    page = client.get(f"/cases/{case['id']}")
    assert "专项整治领域" in page.text and "修改分类" in page.text
    token = csrf_token(page.text)
    refused = client.post(
        f"/cases/{case['id']}/classification",
        data={"csrf_token": token, "campaign_area": "high_rise", "reason": ""},
    )
    assert refused.status_code == 422 and "请填写修改原因" in refused.text
    done = client.post(
        f"/cases/{case['id']}/classification",
        data={"csrf_token": token, **BODY},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "隐患分类已修改" in done.text
    assert "专项整治领域：其他 → 高层建筑" in done.text  # the timeline entry
    assert "行业主管部门：未指定 → 常德市住建局" in done.text
    assert "<dt>行业主管部门</dt><dd>常德市住建局</dd>" in done.text
    auth.login("wuling.nanping")  # officers see the classification, not the form
    page = client.get(f"/cases/{case['id']}")
    assert "高层建筑" in page.text and "修改分类" not in page.text
