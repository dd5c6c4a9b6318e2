"""The dossier as an archive file (案卷): the 卷内目录 right after the cover, every issued document
merged in as stored, page numbers in the index that are where the documents are, every font
embedded, hashes only in the appendix, the 卷内备考表 with its signature lines last.

Read back as a reader's tools see it: pypdf for pages and text, poppler's ``pdftotext`` and
``pdffonts``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from server import create_app
from server.attachments import stored_path
from server.audit import verify_chain
from server.dossier import PrintedDossier, print_dossier
from server.dossier.document import BOTTOM, LANDSCAPE, TOP, _sheets, _swept
from server.extensions import db
from server.models import Case, Document, Event, User
from tests.integration.conftest import TEST_CONFIG, Databases
from tests.support.api import Api
from tests.support.major_hazard import STREET, TO_REPORT
from workflows.catalog import BPMN_DIR
from workflows.diagram_svg import MARGIN, Bounds, diagram_geometry

HEX = re.compile(r"[0-9a-f]{40,}")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install poppler-utils)")
    return found


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def documents_of(case_id: int) -> list[Document]:
    query = select(Document).where(Document.case_id == case_id).order_by(Document.id)
    return list(db.session.scalars(query))


def reported_case(api: Api) -> int:
    case = api.register(STREET)
    for username, name in TO_REPORT:
        api.complete(username, case["id"], name)
    return int(case["id"])


def printed(app: Flask, case_id: int) -> PrintedDossier:
    with app.app_context():
        return print_dossier(user("city.auditor"), db.session.get(Case, case_id))


@dataclass
class Row:
    """A row of the 卷内目录 as printed."""

    number: str
    first: int
    last: int
    remark: str


def index_rows(pdf: bytes, numbers: list[str], tmp_path: Path) -> dict[str, Row]:
    """The index rows naming ``numbers`` (documents' numbers, or the parts' titles), read from
    page 2 with ``pdftotext -layout`` (one printed line per row: 序号, 文号, the title's first
    line, date, pages, remark)."""
    path = tmp_path / "index.pdf"
    path.write_bytes(pdf)
    layout = subprocess.run(
        [tool("pdftotext"), "-layout", "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = {}
    for line in layout.splitlines():
        for number in numbers:
            if number in line:
                found = re.search(r"日\s+(\d+)(?:–(\d+))?\s*(\S*)\s*$", line)
                assert found, line
                first = int(found[1])
                rows[number] = Row(number, first, int(found[2] or first), found[3])
    assert sorted(rows) == sorted(numbers), layout
    return rows


def page_texts(pdf: bytes) -> list[str]:
    return [squeeze(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


# --------------------------------------------------------------------------- the index


def test_the_index_follows_the_cover_and_its_pages_are_where_the_documents_are(
    app: Flask, api: Api, tmp_path: Path
) -> None:
    case_id = reported_case(api)
    dossier = printed(app, case_id)
    pages = page_texts(dossier.pdf)
    with app.app_context():
        documents = documents_of(case_id)
        stored = [stored_path(d.sha256).read_bytes() for d in documents]
        numbers = [d.number for d in documents]
        for d, content in zip(documents, stored, strict=True):
            assert hashlib.sha256(content).hexdigest() == d.sha256  # still as issued
    assert len(numbers) == 4  # 函告书, 整改通知书 and its 送达回证, 请示
    assert "火灾隐患督办案卷" in pages[0] and "卷内目录" not in pages[0]
    assert "卷内目录" in pages[1]
    for number in numbers:
        assert number in pages[1], number

    rows = index_rows(dossier.pdf, numbers, tmp_path)
    previous_last = 2
    for number, content in zip(numbers, stored, strict=True):
        row = rows[number]
        original = PdfReader(io.BytesIO(content)).pages
        # in issue order, right after the index, each as many pages as it was issued with
        assert row.first == previous_last + 1 and row.last - row.first + 1 == len(original)
        previous_last = row.last
        # the number is on the first page the index names, and that page carries its stamp
        assert number in pages[row.first - 1], (number, row)
        assert f"案卷第{row.first}页共{dossier.pages}页" in pages[row.first - 1]
        # every page of the document, as issued, is in the dossier
        for offset, page in enumerate(original):
            assert squeeze(page.extract_text() or "") in pages[row.first - 1 + offset]
        assert row.remark == ""
    assert dossier.pages == len(pages)
    # the dossier's own parts follow the documents, where the index says
    for title in ("办理摘要", "办理记录", "附录：哈希校验", "卷内备考表"):
        assert title in pages[1], title
    assert "卷内备考表" in pages[-1] and f"共{dossier.pages}页" in pages[-1]
    # the printing stays audited, with the merged file's page count and hash
    with app.app_context():
        event = db.session.scalars(
            select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())
        ).first()
        assert event is not None and event.kind == "dossier_printed"
        assert event.data["pages"] == dossier.pages
        assert event.data["sha256"] == hashlib.sha256(dossier.pdf).hexdigest()
        assert verify_chain(case_id).ok


def test_the_index_pages_of_the_parts_are_true(app: Flask, api: Api, tmp_path: Path) -> None:
    case_id = reported_case(api)
    dossier = printed(app, case_id)
    reader = PdfReader(io.BytesIO(dossier.pdf))
    pages = page_texts(dossier.pdf)
    starts = {
        str(item.title): reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }
    titles = ["办理摘要", "办理流程图", "办理记录", "附件目录", "附录：哈希校验", "卷内备考表"]
    rows = index_rows(dossier.pdf, titles, tmp_path)
    for title, heading in (
        ("办理摘要", "一、办理摘要"),
        ("办理流程图", "二、办理流程图"),
        ("办理记录", "三、办理记录"),
        ("附件目录", "四、附件"),
        ("附录：哈希校验", "附录：哈希校验"),
        ("卷内备考表", "卷内备考表"),
    ):
        assert rows[title].first == starts[heading], (title, rows[title], starts[heading])
        assert heading in pages[rows[title].first - 1]
    # consecutive and complete: each part ends where the next begins (or a page before)
    for title, following in itertools.pairwise(titles):
        assert rows[following].first - rows[title].last in (0, 1), (title, rows)
    assert rows["卷内备考表"].last == dossier.pages == len(pages)


# --------------------------------------------------------------------------- fonts, hashes, words


def test_every_font_of_the_merged_dossier_is_embedded(app: Flask, api: Api, tmp_path: Path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(printed(app, reported_case(api)).pdf)
    listing = subprocess.run(
        [tool("pdffonts"), str(path)], capture_output=True, text=True, check=True
    ).stdout
    lines = listing.splitlines()[2:]
    assert len(lines) >= 2, listing  # the dossier's subset and the documents' own
    for line in lines:
        _name, *_, emb, sub, _uni, _obj, _gen = line.split()
        assert (emb, sub) == ("yes", "yes"), listing
    assert "Helvetica" not in listing


def test_hashes_are_only_in_the_appendix(app: Flask, api: Api) -> None:
    case_id = reported_case(api)
    printed(app, case_id)  # an earlier printing: its event quotes a head hash
    dossier = printed(app, case_id)
    pages = page_texts(dossier.pdf)
    appendix = [n for n, text in enumerate(pages) if "附录：哈希校验" in text and n > 1]
    backnote = len(pages) - 1
    assert appendix and "卷内备考表" in pages[backnote]
    inside = set(range(appendix[0], backnote))
    for n, text in enumerate(pages):
        if n not in inside:
            assert not HEX.search(text), (n + 1, HEX.search(text))
    body = "".join(pages[n] for n in sorted(inside))
    with app.app_context():
        events = db.session.scalars(select(Event).where(Event.case_id == case_id))
        hashes = [
            e.hash for e in events if e.kind != "dossier_printed" or e.seq < dossier_seq(case_id)
        ]
        documents = documents_of(case_id)
        hashes += [d.sha256 for d in documents]
    for value in hashes:
        assert value in body, value
    assert "与签发时一致" in body


def dossier_seq(case_id: int) -> int:
    """The seq of the latest printing (its own event is appended after the dossier is set)."""
    return max(
        db.session.scalars(
            select(Event.seq).where(Event.case_id == case_id, Event.kind == "dossier_printed")
        )
    )


def test_no_server_path_and_no_english_code_anywhere(app: Flask, api: Api, tmp_path: Path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(printed(app, reported_case(api)).pdf)
    everything = subprocess.run(
        [tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert not re.search(r"(?<![\w〔])/[A-Za-z_]\w*/", everything)  # no /usr/…, /srv/…
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", everything)  # no snake_case identifier
    for leaked in (".ttc", ".ttf", "dossier_printed", "document_issued", "WenQuanYi"):
        assert leaked not in everything, leaked


# --------------------------------------------------------------------------- void and missing


def test_a_void_document_is_included_and_marked_void(app: Flask, api: Api, tmp_path: Path):
    case_id = reported_case(api)
    with app.app_context():
        documents = documents_of(case_id)
        documents[1].void = True  # as a correction leaves it: number kept, marked void
        db.session.commit()
        numbers = [d.number for d in documents]
    dossier = printed(app, case_id)
    rows = index_rows(dossier.pdf, numbers, tmp_path)
    assert rows[numbers[1]].remark == "作废"
    assert rows[numbers[0]].remark == rows[numbers[2]].remark == rows[numbers[3]].remark == ""
    pages = page_texts(dossier.pdf)
    assert numbers[1] in pages[rows[numbers[1]].first - 1]  # still included, as issued
    assert "本卷共有文书4件（其中作废1件）" in pages[-1]


def test_a_changed_document_file_is_named_not_merged(app: Flask, api: Api, tmp_path: Path):
    case_id = reported_case(api)
    with app.app_context():
        documents = documents_of(case_id)
        numbers = [d.number for d in documents]
        path = stored_path(documents[0].sha256)
        path.write_bytes(path.read_bytes() + b"% changed")
    dossier = printed(app, case_id)
    rows = index_rows(dossier.pdf, numbers, tmp_path)
    assert rows[numbers[0]].remark == "文件缺失"
    assert rows[numbers[0]].first == rows[numbers[0]].last == 3
    pages = page_texts(dossier.pdf)
    assert "文书文件未能收入本案卷" in pages[2] and numbers[0] in pages[2]
    assert rows[numbers[1]].first == 4 and numbers[1] in pages[3]
    assert "文件缺失或已改动" in "".join(pages[-4:])


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A copy of the template database with the demo seeded through the CLI."""
    uri = databases.new()
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri, "UPLOAD_DIR": str(uploads)})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(uri)


def test_the_dossier_of_a_closed_demo_case_starts_with_its_index(demo: Flask) -> None:
    with demo.app_context():
        closed = db.session.scalars(
            select(Case).where(Case.status == "closed", Case.process_id == "major_hazard")
        ).all()
        case = max(closed, key=lambda c: len(documents_of(c.id)))
        numbers = [d.number for d in documents_of(case.id)]
        assert len(numbers) >= 4
        dossier = print_dossier(user("city.auditor"), case)
    pages = page_texts(dossier.pdf)
    assert "卷内目录" in pages[1]
    for number in numbers:
        assert number in pages[1], number
        assert any(number in page for page in pages[2:]), number
    assert "卷内备考表" in pages[-1] and "承办人（立卷人）" in pages[-1]
    assert "审核人（检查人）" in pages[-1]


# --------------------------------------------------------------------------- the diagram's sheets


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda p: p.stem)
def test_detail_sheets_show_every_element_and_no_bare_lanes(path: Path) -> None:
    geometry = diagram_geometry(path.read_text(encoding="utf-8"))
    nodes = [s.bounds for s in geometry.shapes
             if not s.is_lane and s.kind not in ("participant", "lane", "subProcess")]  # fmt: skip
    box = geometry.bounds
    full = Bounds(box.x - MARGIN, box.y - MARGIN, box.width + 2 * MARGIN, box.height + 2 * MARGIN)
    frame_w, frame_h = LANDSCAPE[0] - 72, LANDSCAPE[1] - TOP - BOTTOM + 12 - 1 - 64
    scale = min(frame_w / full.width, frame_h / full.height)
    grid = _sheets(full, frame_w, frame_h, scale)
    sheets = _swept(full, grid, nodes)
    if not grid:
        return  # readable as a whole
    assert len(sheets) <= len(grid)

    def shows(sheet: Bounds, n: Bounds) -> bool:
        return (sheet.x <= n.x and n.right <= sheet.right
                and sheet.y <= n.y and n.y + n.height <= sheet.y + sheet.height)  # fmt: skip

    for sheet in sheets:
        assert any(shows(sheet, n) for n in nodes), sheet  # no page of bare lanes
    # every element lying within one row of sheets is shown whole on some sheet
    height = grid[0].height
    for n in nodes:
        if n.height <= height / 2:
            assert any(shows(sheet, n) for sheet in sheets), n
