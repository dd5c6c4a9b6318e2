"""Official documents issued with the major-hazard steps: numbered, stored, listed, previewed.

Checks the PDFs with poppler's ``pdftotext`` and ``pdffonts`` (Debian's poppler-utils).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.api import Api, today

STREET = "wuling.nanping"
FIRE = "wuling.fire"
GOV = "wuling.gov"
TO_REPORT = [
    (STREET, "refer_to_fire_rescue"),
    (FIRE, "file_case"),
    (FIRE, "collective_deliberation"),
    (FIRE, "serve_rectification_notice"),
    (FIRE, "report_to_government"),
]


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


def _fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def _run(api: Api, case_id: int, steps=TO_REPORT) -> None:
    for user, name in steps:
        api.complete(user, case_id, name)


def test_three_steps_issue_three_numbered_documents(api: Api, tmp_path: Path) -> None:
    case = api.register(STREET)
    _run(api, case["id"])
    listing = api.get(FIRE, f"/cases/{case['id']}/documents")
    assert listing.status_code == 200, listing.json
    items = listing.json["items"]
    year = today().year
    assert [(d["kind"], d["number"]) for d in items] == [
        ("hazard_referral_letter", f"武南函〔{year}〕1号"),
        ("rectification_notice", f"武消隐改字〔{year}〕第0001号"),
        ("government_request", f"武消请〔{year}〕1号"),
    ]
    expected = {
        "hazard_referral_letter": ["武陵区南坪街道", "武陵区消防救援大队", "存在重大火灾隐患的函"],
        "rectification_notice": ["重大火灾隐患整改通知书", "当事人", "责令你单位予以整改消除"],
        "government_request": ["挂牌督办的请示", "武陵区人民政府", "妥否，请批示。"],
    }
    for item in items:
        assert set(item) >= {"kind", "title", "number", "issued_at", "issuer", "void", "sha256",
                             "url"}  # fmt: skip
        assert item["void"] is False
        pdf = api.get(FIRE, item["url"].removeprefix("/api/v1"))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        import hashlib

        assert hashlib.sha256(pdf.data).hexdigest() == item["sha256"]
        text = "".join(_text(pdf.data, tmp_path).split())
        for word in [item["number"], case["unit_name"], *expected[item["kind"]]]:
            assert "".join(word.split()) in text, (item["kind"], word)
        fonts = _fonts(pdf.data, tmp_path)
        assert fonts, "no font listed"
        for row in fonts:
            # name type encoding emb sub uni object ID: "yes" in the emb column
            assert row[-5] == "yes", row
    # the generated number is in the step's stored form and the hash chain
    events = api.get(FIRE, f"/cases/{case['id']}/events", query_string={"per_page": 100}).json
    issued = [e for e in events["items"] if e["kind"] == "document_issued"]
    assert [e["data"]["number"] for e in issued] == [d["number"] for d in items]
    assert [e["data"]["sha256"] for e in issued] == [d["sha256"] for d in items]
