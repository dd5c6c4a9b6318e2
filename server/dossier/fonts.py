"""The CJK font of the dossier: an embedded TrueType font when one is installed.

A discipline inspector's file must print the same everywhere, so the dossier embeds (a subset
of) a TrueType CJK font: ``DOSSIER_FONT`` (app config or environment; ``PATH`` or ``PATH#N``
for the N-th face of a ``.ttc`` collection) if it loads, else the first of
``DOSSIER_FONT_SEARCH`` that does (Debian's ``fonts-wqy-microhei`` first). ReportLab reads only
TrueType outlines: OpenType/CFF fonts such as Noto CJK are refused and skipped.

Only when none loads does the dossier fall back to ReportLab's built-in ``STSong-Light`` (a CID
font the PDF reader supplies; nothing is embedded), and it says so on its cover and in its
metadata.

**Threads.** ReportLab's ``TTFont`` is shared by every document set in it (the registry is per
process) and is not safe across threads: it keeps each document's subsets in a table, and the
subsetting at the end of a build reads glyphs through the face's one file cursor, so two builds
at once read each other's positions (``KeyError``/``IndexError`` in ``makeSubset``). Every
document build therefore holds :data:`BUILD_LOCK` (:func:`server.dossier.document.render`), and
fonts are loaded and registered under it too. We measured the alternative, a ``TTFont`` per build:
loading WenQuanYi Micro Hei costs ~50 ms, half of a small dossier's ~110 ms, and ~5 MB per build
in flight; the lock costs nothing in throughput, as ReportLab's work is pure Python under the GIL
and threads never ran two builds faster than one after the other.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

#: Where Debian's CJK TrueType fonts live, best first.
DEFAULT_SEARCH: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FALLBACK = "STSong-Light"
#: Chinese names of the fonts above, by the start of their face name (lower case, letters and
#: digits only), as their makers and distributions name them.
CHINESE_NAMES: tuple[tuple[str, str], ...] = (
    ("wenquanyimicrohei", "文泉驿微米黑"),
    ("wenquanyizenhei", "文泉驿正黑"),
    ("arpluming", "文鼎 PL 细上明"),
    ("uming", "文鼎 PL 细上明"),
    ("ukai", "文鼎 PL 中楷"),
    ("stsonglight", "华文宋体"),
)
INSTALL_HINT = "apt-get install fonts-wqy-microhei"
#: Held while a document is built with ReportLab and while fonts are registered (see above).
BUILD_LOCK = threading.RLock()


@dataclass(frozen=True)
class DossierFont:
    """The font a dossier is set in."""

    name: str
    """The name registered with ReportLab (used in styles and on the canvas)."""
    family: str
    """The font's own name, for people (``WenQuanYiMicroHei``)."""
    path: str | None
    """The font file; None for the built-in fallback."""
    embedded: bool
    problem: str = ""
    """Why the configured font was not used (empty when it was, or none was configured)."""

    @property
    def display_name(self) -> str:
        """The font's name as Chinese readers know it (文泉驿微米黑), or a plain description
        when the font is not one we know (never a file path)."""
        key = "".join(ch for ch in self.family.lower() if ch.isalnum())
        for prefix, name in CHINESE_NAMES:
            if key.startswith(prefix):
                return name
        return "中文 TrueType 字体" if self.embedded else "PDF 阅读器内置中文字体"

    @property
    def description(self) -> str:
        """One line for the cover and the metadata, in Chinese: no path, no file names."""
        if self.embedded:
            return f"{self.display_name}（已嵌入本文件）"
        return f"{self.display_name}（PDF 阅读器内置字体，未嵌入本文件）"

    def has_glyph(self, char: str) -> bool:
        """Whether the font draws ``char`` (the built-in CID font is assumed to)."""
        if not self.embedded:
            return True
        font = pdfmetrics.getFont(self.name)
        return ord(char) in getattr(font.face, "charToGlyph", {})


def _split(spec: str) -> tuple[str, int]:
    """``PATH#N`` → (PATH, N); ``PATH`` → (PATH, 0)."""
    path, sep, index = spec.rpartition("#")
    if sep and index.isdigit():
        return path, int(index)
    return spec, 0


@cache
def _load_truetype(path: str, index: int) -> DossierFont:
    """Register a TrueType face once per process (ReportLab's registry is global).

    :raises TTFError, OSError: when the file is missing or not a usable TrueType font.
    """
    if not Path(path).is_file():
        raise OSError(f"没有文件 {path}")
    name = f"DubanCJK-{Path(path).stem}-{index}"
    font = TTFont(name, path, subfontIndex=index)
    _read_tables_in_place(font.face)
    pdfmetrics.registerFont(font)
    # <b> and <i> in paragraphs map to the same face (CJK fonts rarely ship a bold one).
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    family = font.face.name.decode("latin-1") if isinstance(font.face.name, bytes) else name
    return DossierFont(name, family, path, embedded=True)


class _InPlace:
    """A table of a face's file read where it lies: a slice copies only the bytes it takes."""

    __slots__ = ("view",)

    def __init__(self, view: memoryview) -> None:
        self.view = view

    def __getitem__(self, index: slice) -> bytes:
        return self.view[index].tobytes()

    def __len__(self) -> int:
        return len(self.view)


def _read_tables_in_place(face: Any) -> None:
    """Make the subsetting of ``face`` read its tables without copying the font file.

    ReportLab's ``makeSubset`` (once per subset of every document, at the end of a build) asks
    the face for each table it copies, and ``get_table`` slices the whole file's bytes: for
    the 17 MB ``glyf`` table of AR PL UMing that copy was a quarter of a one-page document's
    rendering. Here the small tables are copied once per process (bytes, never changed) and
    ``glyf``, of which a subset takes a few hundred glyphs, is sliced through a memoryview.
    The subset's bytes are the same.
    """
    view = memoryview(face._ttf_data)
    tables: dict[str, Any] = {}

    def get_table(tag: str) -> Any:
        table = tables.get(tag)
        if table is None:
            pos, length = face.get_table_pos(tag)  # KeyError for a missing table, as before
            part = view[pos : pos + length]
            table = tables[tag] = _InPlace(part) if tag == "glyf" else part.tobytes()
        return table

    face.get_table = get_table


@cache
def _fallback() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))


def find_font(configured: str | None, search: tuple[str, ...] = DEFAULT_SEARCH) -> DossierFont:
    """The dossier font: ``configured`` if it loads, else the first of ``search`` that does,
    else the built-in ``STSong-Light``.

    :param configured: ``PATH`` or ``PATH#N`` (from ``DOSSIER_FONT``), or empty.
    :param search: candidate font files tried in order.
    """
    with BUILD_LOCK:
        return _find_font(configured, search)


def _find_font(configured: str | None, search: tuple[str, ...]) -> DossierFont:
    problem = ""
    candidates = [c for c in ([configured] if configured else []) + list(search) if c]
    for spec in candidates:
        path, index = _split(spec)
        try:
            font = _load_truetype(path, index)
        except (TTFError, OSError, ValueError, IndexError) as exc:
            if spec == configured:
                problem = f"配置的字体 {configured} 无法使用：{exc}"
                log.warning("dossier font %s unusable: %s", configured, exc)
            continue
        if problem:
            return DossierFont(font.name, font.family, font.path, True, problem)
        return font
    _fallback()
    log.warning("no CJK TrueType font found for dossiers; falling back to %s (%s)", FALLBACK,
                INSTALL_HINT)  # fmt: skip
    return DossierFont(FALLBACK, FALLBACK, None, embedded=False, problem=problem)
