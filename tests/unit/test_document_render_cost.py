"""What keeps issuing a document cheap (issue 20, ``bench/documents.py``) without changing it:
ReportLab's C accelerators are loaded, a font subset read in place is the same subset, and the
issued document's faster Flate level changes no decoded byte."""

from __future__ import annotations

import base64
import re
import sys
import zlib
from pathlib import Path

import pytest
from reportlab import rl_config
from reportlab.lib import rl_accel
from reportlab.pdfbase.ttfonts import TTFont

from server.documents.fonts import UMING, find_document_fonts
from server.documents.render import FLATE_LEVEL, render
from server.dossier.fonts import find_font
from workflows.documents import Filled

needs_uming = pytest.mark.skipif(not Path(UMING).is_file(), reason="fonts-arphic-uming missing")


def test_reportlab_runs_its_c_accelerators() -> None:
    # rl-accel (requirements.txt): without it ReportLab silently uses pure-Python versions
    assert not rl_accel._py_funcs, sorted(rl_accel._py_funcs)


@needs_uming
def test_a_subset_read_in_place_is_the_subset_reportlab_makes() -> None:
    registered = find_font(f"{UMING}#0", ())  # its face reads its tables in place
    from reportlab.pdfbase import pdfmetrics

    shared = pdfmetrics.getFont(registered.name).face
    plain = TTFont("PlainUMing", UMING, subfontIndex=0).face  # ReportLab's own get_table
    text = "重大火灾隐患函告书：武陵区南坪街道（2026）第0001号，责令限期整改。"
    subset = sorted({ord(ch) for ch in text})
    assert shared.makeSubset(subset) == plain.makeSubset(subset)
    assert shared.get_table("head") == plain.get_table("head")
    with pytest.raises(KeyError):
        shared.get_table("fpgm")  # a table the face lacks is missing, as before


_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)


def _decoded(pdf: bytes) -> tuple[bytes, list[bytes]]:
    """The file's text outside its streams (less lengths and offsets) and each stream inflated."""
    streams: list[bytes] = []

    def inflate(match: re.Match[bytes]) -> bytes:
        data = match.group(1).strip()
        if data.endswith(b"~>"):  # a page's content: ASCII85 over Flate
            data = base64.a85decode(data, adobe=True)
        streams.append(zlib.decompress(data))
        return b"stream"

    text = _STREAM.sub(inflate, pdf)
    text = re.sub(rb"/Length \d+", b"", text)
    return re.sub(rb"xref.*", b"", text, flags=re.S), streams


@needs_uming
def test_the_flate_level_changes_no_decoded_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rl_config, "invariant", 1)  # no date or random id in the file
    filled = Filled(
        kind="hazard_referral_letter",
        name="重大火灾隐患函告书",
        title="关于常德市武陵区星光娱乐有限公司存在重大火灾隐患的函",
        number="武南函〔2026〕1号",
        issuer="常德市武陵区南坪街道办事处",
        addressee="常德市武陵区消防救援大队",
        addressee_label="",
        date="2026年3月5日",
        paragraphs=("一、基本情况。二层包厢区安全出口数量不足。", "（一）疏散通道被货物堵塞。"),
        receipt=(),
        layout="letter",
    )
    fonts = find_document_fonts({})
    fast = render(filled, fonts)
    module = sys.modules["server.documents.render"]  # the package exports the function
    monkeypatch.setattr(module, "FLATE_LEVEL", 6)  # ReportLab's default
    default = render(filled, fonts)
    assert FLATE_LEVEL == 1 and fast != default
    assert _decoded(fast) == _decoded(default)
