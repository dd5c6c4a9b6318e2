"""The typefaces of issued documents, one per GB/T 9704-2012 role, each an embedded TrueType.

GB/T 9704 (``../shared/DOCUMENTS.md`` §1.1–1.6, §5) sets the body in 3号仿宋, the title and the
red 发文机关标志 in 小标宋, first-level headings in 黑体, second-level headings and the
签发人's name in 楷体, page numbers in 宋体. Those faces (方正小标宋, 仿宋_GB2312, 楷体_GB2312) are
commercial; Debian bookworm has no free 仿宋 or 小标宋 that covers simplified Chinese (the only
仿宋, ``fonts-cwtex-fs``, is a traditional-character font: it lacks 专, 业, 临, 书, 关 …). So each
role gets the nearest free TrueType face Debian ships (``docs/documents-engine.md``, "Fonts"):

- ``body`` (仿宋; ``DOCUMENT_FONT_BODY``): AR PL UMing CN, a 明体 = 宋体 (fonts-arphic-uming);
- ``title`` (小标宋, also the red 发文机关标志; ``DOCUMENT_FONT_TITLE``): AR PL UMing CN, drawn
  emboldened by the renderer;
- ``hei`` (黑体; ``DOCUMENT_FONT_HEI``): WenQuanYi Micro Hei (fonts-wqy-microhei);
- ``kai`` (楷体; ``DOCUMENT_FONT_KAI``): AR PL UKai CN (fonts-arphic-ukai).

A setting is ``PATH`` or ``PATH#N`` (face N of a ``.ttc``), from the app config or the
environment. A role whose font is missing falls back along its search list and then to the
dossier's fonts (WenQuanYi Micro Hei first), so a server without the Arphic packages prints
its documents in one sans face as before; with no CJK TrueType at all every role is ReportLab's
built-in ``STSong-Light`` (not embedded), as for the dossier. ReportLab embeds TrueType outlines
only: Noto Serif CJK (fonts-noto-cjk) has CFF outlines and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from server.dossier.fonts import DEFAULT_SEARCH, DossierFont, find_font

UMING = "/usr/share/fonts/truetype/arphic/uming.ttc"
UKAI = "/usr/share/fonts/truetype/arphic/ukai.ttc"
WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
#: The Debian packages of the preferred faces (``make fonts`` and ``.ci/run`` install them).
PACKAGES = ("fonts-arphic-uming", "fonts-arphic-ukai", "fonts-wqy-microhei")

#: Song/Ming faces (face 0 of uming.ttc is "AR PL UMing CN", the simplified-Chinese forms).
_SONG = (f"{UMING}#0", "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf")
#: Per role, the font files tried in order (after the role's setting); the dossier's search
#: list comes last, so each role falls back to the dossier's sans face.
SEARCH: dict[str, tuple[str, ...]] = {
    "body": (*_SONG, *DEFAULT_SEARCH),
    "title": (*_SONG, *DEFAULT_SEARCH),
    "hei": (WQY, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", *DEFAULT_SEARCH),
    "kai": (
        f"{UKAI}#0",
        "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
        *_SONG,
        *DEFAULT_SEARCH,
    ),
}
#: The setting of each role (app config key = environment variable).
SETTINGS = {role: f"DOCUMENT_FONT_{role.upper()}" for role in SEARCH}


@dataclass(frozen=True)
class DocumentFonts:
    """The faces a document is set in, by role."""

    body: DossierFont
    """仿宋's stand-in: body text, addressee, number, 署名 and date, receipt, page numbers."""
    title: DossierFont
    """小标宋's stand-in: the title and the 发文机关标志 (drawn emboldened)."""
    hei: DossierFont
    """黑体: first-level headings (一、)."""
    kai: DossierFont
    """楷体: second-level headings (（一）), the 签发人's name."""

    @property
    def name(self) -> str:
        """The body font's registered name (what a caller setting plain text uses)."""
        return self.body.name

    @property
    def embedded(self) -> bool:
        """Whether every face is an embedded TrueType."""
        return all(font.embedded for font in self.all())

    def all(self) -> tuple[DossierFont, ...]:
        """The four faces (repeated when roles share one)."""
        return (self.body, self.title, self.hei, self.kai)


def find_document_fonts(
    config: Mapping[str, Any], search: Mapping[str, tuple[str, ...]] | None = None
) -> DocumentFonts:
    """The document fonts: per role the configured font if it loads, else the first of the
    role's search list that does, else the built-in ``STSong-Light``.

    :param config: the app config (``DOCUMENT_FONT_BODY`` … ``DOCUMENT_FONT_KAI``).
    :param search: the candidate files per role (default :data:`SEARCH`).
    """
    lists = dict(SEARCH if search is None else search)
    found = {
        role: find_font(str(config.get(SETTINGS[role]) or ""), tuple(lists.get(role, ())))
        for role in SEARCH
    }
    return DocumentFonts(**found)


def document_fonts() -> DocumentFonts:
    """This app's document fonts (``DOCUMENT_FONT_*``; ``DOCUMENT_FONT_SEARCH``, a mapping of
    role to files, replaces :data:`SEARCH`, for tests)."""
    config = current_app.config
    return find_document_fonts(config, config.get("DOCUMENT_FONT_SEARCH"))
