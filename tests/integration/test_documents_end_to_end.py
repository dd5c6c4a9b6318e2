"""Issue 17's acceptance: a case run end to end issues every document its path issues, each
numbered, listed, its PDF carrying its number, title, addressee and the case's facts, every font
embedded and subset (poppler's ``pdftotext`` and ``pdffonts``).

The cases are walked through the API, each step completed by an officer of the agency that
holds it (looked up by the task's agency, as a user would find it in their inbox).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Agency, Document, User
from tests.support.api import Api
from tests.support.pdf import assert_fonts_embedded, document_pdf

Step = tuple[str, dict[str, Any]]

# The major-hazard path with every document it can issue: expert review, a temporary sealing
# and its lifting, listing for supervision, a re-inspection and the closure.
MAJOR: list[Step] = [
    ("refer_to_fire_rescue", {}),
    ("file_case", {"technically_complex": True, "sealing": "collective"}),
    ("expert_review", {}),
    ("temporary_sealing", {}),
    ("collective_deliberation", {}),
    ("serve_rectification_notice", {}),
    ("report_to_government", {}),
    ("government_decision", {}),
    ("set_rectification_plan", {}),
    ("sealing_in_force", {}),
    ("lifting_check", {}),
    ("lifting_decision", {}),
    ("report_rectification_progress", {"percent": 100, "completed": True}),
    ("reinspection", {}),
    ("request_closure", {}),
    ("close_case", {}),
]
MAJOR_KINDS = {
    "hazard_referral_letter": "存在重大火灾隐患的函",  # 重大火灾隐患函告书, a 函
    "temporary_sealing_decision": "临时查封决定书",
    "rectification_notice": "重大火灾隐患整改通知书",
    "service_receipt_rectification": "送达回证",
    "government_request": "请示",
    "government_reply": "批复",
    "listed_supervision_notice": "通知",
    "sealing_lifting_decision": "解除临时查封决定书",
    "reinspection_opinion": "复查意见书",
    "closure_request": "请示",
    "closure_reply": "批复",
}

# The ordinary-hazard path (GB 35181-2017 era: the street's "not major" verdict stands).
ORDINARY: list[Step] = [
    ("order_correction", {}),
    ("await_reinspection_request", {}),
    ("ordinary_reinspection", {}),
]
ORDINARY_KINDS = {
    "correction_order": "责令限期改正通知书",
    "ordinary_reinspection_opinion": "复查意见书",
}

# A fatal fire (general procedure): extension, determination, service, review and
# re-determination; responsibility findings referring a party for credit punishment; the
# graded public warning.
FIRE: list[Step] = [
    ("cause_investigation", {"outcome": "request_extension"}),
    ("approve_extension", {}),
    ("cause_determination_extended", {}),
    ("serve_determination", {}),
    ("review_request", {}),
    ("review_acceptance", {}),
    ("review_decision", {"outcome": "redetermine"}),
    ("re_determination", {}),
]
FIRE_KINDS = {
    "determination_extension_approval": "审批表",
    "fire_determination_extended": "火灾事故认定书",
    "service_receipt": "送达回证",
    "review_acceptance_notice": "受理通知书",
    "fire_review_decision": "复核决定书",
    "fire_redetermination": "火灾事故认定书",
}

# A fatal fire: city-level investigation, responsibility findings referring a party for credit
# punishment (a letter to each department), the graded public warning.
FATAL: list[Step] = [
    ("cause_investigation", {}),
    ("responsibility_investigation", {}),
    ("publish_warning", {}),
]
FATAL_KINDS = {
    "fire_determination": "火灾事故认定书",
    "credit_referral_letter_development_reform": "函",
    "credit_referral_letter_finance": "函",
    "credit_referral_letter_housing": "函",
    "credit_referral_letter_market_regulation": "函",
    "fire_warning_notice": "通报",
}

SIMPLIFIED: list[Step] = [("simplified_determination", {})]
SIMPLIFIED_KINDS = {"simplified_fire_determination": "火灾事故简易调查认定书"}


def _officer(app: Flask, agency_code: str) -> str:
    """An officer of the agency holding a task (as their inbox shows it)."""
    with app.app_context():
        users = db.session.scalars(
            select(User)
            .join(Agency, User.agency_id == Agency.id)
            .where(Agency.code == agency_code, User.active.is_(True))
            .order_by(User.username)
        )
        officers = [u.username for u in users if "officer" in u.roles.split(",")]
    assert officers, f"no officer of {agency_code}"
    return officers[0]


def _walk(app: Flask, api: Api, viewer: str, case_id: int, steps: list[Step]) -> None:
    for name, overrides in steps:
        case = api.get(viewer, f"/cases/{case_id}").json
        holders = [t["agency"]["code"] for t in case["tasks"] if t["name"] == name]
        assert holders, f"{name} is not open; open: {[t['name'] for t in case['tasks']]}"
        api.complete(_officer(app, holders[0]), case_id, name, **overrides)


def _check_documents(
    app: Flask, api: Api, viewer: str, case: dict, kinds: dict[str, str], tmp_path: Path
) -> None:
    listing = api.get(viewer, f"/cases/{case['id']}/documents")
    assert listing.status_code == 200, listing.json
    items = listing.json["items"]
    assert {d["kind"] for d in items} >= set(kinds), sorted(d["kind"] for d in items)
    with app.app_context():
        addressees = {
            d.id: d.filled["addressee"]
            for d in db.session.scalars(select(Document).where(Document.case_id == case["id"]))
        }
    for item in items:
        assert item["number"] and not item["void"], item
        assert len(item["sha256"]) == 64
        if item["kind"] in kinds:
            assert kinds[item["kind"]] in item["title"], (item["kind"], item["title"])
        text, fonts = document_pdf(api, viewer, item, tmp_path)
        assert_fonts_embedded(fonts, subset=True, what=item["kind"])
        addressee = addressees[item["id"]]
        assert addressee, item["kind"]
        for word in (item["number"], item["title"], addressee, case["unit_name"]):
            assert "".join(word.split()) in text, (item["kind"], word)


MAJOR_FOUND = {}
ORDINARY_FOUND = {"found_on": "2025-10-20", "site_categories": ["other"], "elements": ["7.4.1"]}


@pytest.mark.parametrize(
    ("registration", "steps", "kinds"),
    [(MAJOR_FOUND, MAJOR, MAJOR_KINDS), (ORDINARY_FOUND, ORDINARY, ORDINARY_KINDS)],
    ids=["major", "ordinary"],
)
def test_a_hazard_case_end_to_end_issues_every_document_of_its_path(
    app: Flask, api: Api, tmp_path: Path, registration: dict, steps: list[Step], kinds: dict
) -> None:
    case = api.register("wuling.nanping", **registration)
    _walk(app, api, "wuling.nanping", case["id"], steps)
    assert api.get("wuling.nanping", f"/cases/{case['id']}").json["status"] == "closed"
    _check_documents(app, api, "wuling.nanping", case, kinds, tmp_path)


@pytest.mark.parametrize(
    ("registration", "viewer", "steps", "kinds"),
    [
        # county level: an extension, service, a review ordering a re-determination
        ({"days_ago": 5}, "dingcheng.fire", FIRE, FIRE_KINDS),
        # a death and two serious injuries: city level, credit referral, the public warning
        (
            {"days_ago": 10, "deaths": 1, "serious_injuries": 2},
            "detachment.officer",
            FATAL,
            FATAL_KINDS,
        ),
        # the simplified procedure
        (
            {"days_ago": 2, "site_type": "residence", "direct_loss": 18000},
            "dingcheng.fire",
            SIMPLIFIED,
            SIMPLIFIED_KINDS,
        ),
    ],
    ids=["general", "fatal", "simplified"],
)
def test_a_fire_end_to_end_issues_every_document_of_its_path(
    app: Flask,
    api: Api,
    tmp_path: Path,
    registration: dict,
    viewer: str,
    steps: list[Step],
    kinds: dict,
) -> None:
    case = api.register_fire("dingcheng.fire", **registration)
    _walk(app, api, viewer, case["id"], steps)
    _check_documents(app, api, viewer, case, kinds, tmp_path)
