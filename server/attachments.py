"""Files attached to a case: checked by name and content, stored by their SHA-256.

The file on disk is named after its SHA-256 (``UPLOAD_DIR/ab/abcdef…``), never after what the
user called it, so a name cannot reach outside the folder or overwrite another file. The name
the user gave is kept, cleaned, for display and download only.

A file's name is its SHA-256 as the ``attachment_added`` audit event recorded it, so a file
overwritten on disk no longer matches its name: the download re-hashes the bytes it is about to
send and refuses (409, nothing sent) when they differ; the dossier and ``audit verify --files``
re-hash every file of a case and report a changed or missing one as a verification failure;
the case page re-hashes a file only when its size, inode or modification time changed since
this process last hashed it (:func:`file_problem` with ``cached``).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from server.audit import append_event
from server.extensions import db
from server.models import Attachment, Case, User
from server.operations import Conflict, OperationError, lock_case

MAX_NAME = 200

#: extension → (MIME type, content check)
PDF, PNG, JPEG = b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls compound file
ZIP = b"PK\x03\x04"

MIME = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ALLOWED_TEXT = "PDF、JPG、PNG、Word（doc/docx）、Excel（xls/xlsx）"


class AttachmentRejected(OperationError):
    """The file is not accepted: no file, an empty one or a name with a path (422, on the
    ``file`` field); see the subclasses for size and type."""

    status = 422

    def __init__(self, message: str) -> None:
        """:param message: the Chinese reason, shown next to the file field."""
        super().__init__(message, {"file": message})


class AttachmentTooLarge(AttachmentRejected):
    """The file is larger than the upload limit (413)."""

    status = 413


class AttachmentWrongType(AttachmentRejected):
    """A file type that is not allowed, or content that is not what its extension says (415)."""

    status = 415


def clean_filename(name: str) -> str:
    """The display name of an upload: Chinese kept; path, control and format characters
    removed; at most 200 characters (the extension is kept when shortening).

    :raises AttachmentRejected: when the name tries to climb out of a folder (``..``).
    """
    name = unicodedata.normalize("NFC", name or "")
    parts = name.replace("\\", "/").split("/")
    if any(part.strip() == ".." for part in parts):
        raise AttachmentRejected("文件名不合法：不能包含路径（..）")
    base = parts[-1]
    # Control, format (bidirectional overrides, zero-width), surrogate and private-use chars
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = " ".join(base.split()).strip(" .")
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            base = stem[: MAX_NAME - len(ext) - 1] + "." + ext
        else:
            base = base[:MAX_NAME]
    return base


def _extension(name: str) -> str:
    """The lower-case extension of a file name (empty without one)."""
    _stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def _ooxml_kind(content: bytes) -> str | None:
    """``docx`` or ``xlsx`` for an Office Open XML package (only its directory is read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def content_matches(ext: str, content: bytes) -> bool:
    """Whether the bytes are what the extension says."""
    if ext == "pdf":
        return content.startswith(PDF)
    if ext == "png":
        return content.startswith(PNG)
    if ext in ("jpg", "jpeg"):
        return content.startswith(JPEG)
    if ext in ("doc", "xls"):
        return content.startswith(OLE)
    if ext in ("docx", "xlsx"):
        return content.startswith(ZIP) and _ooxml_kind(content) == ext
    return False


def stored_path(sha256: str) -> Path:
    """Where the file with this SHA-256 lives."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


class AttachmentTampered(OperationError):
    """The stored file is missing or its bytes no longer have the SHA-256 recorded at upload."""

    status = 409


#: (sha256, inode, size, mtime) → the digest the file had then (for the case page only).
_DIGESTS: dict[tuple[str, int, int, int], str] = {}
_DIGESTS_MAX = 10_000


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def file_problem(attachment: Attachment, *, cached: bool = False) -> str | None:
    """Why the attachment's stored file is not the one uploaded (in Chinese), or None.

    :param cached: trust a digest this process computed for the same inode, size and
        modification time (the case page); otherwise the file is read and hashed in full.
    """
    try:
        path = stored_path(attachment.sha256)
        stat = path.stat()
    except (ValueError, OSError):
        return f"附件“{attachment.filename}”的文件缺失"
    key = (attachment.sha256, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    actual = _DIGESTS.get(key) if cached else None
    if actual is None:
        try:
            actual = _file_digest(path)
        except OSError:
            return f"附件“{attachment.filename}”的文件无法读取"
        if len(_DIGESTS) >= _DIGESTS_MAX:
            _DIGESTS.clear()
        _DIGESTS[key] = actual
    if actual != attachment.sha256:
        return (
            f"附件“{attachment.filename}”的文件已被改动：SHA-256 为 {actual[:16]}…，"
            f"与上传时记录的 {attachment.sha256[:16]}… 不符"
        )
    return None


def verified_content(attachment: Attachment) -> bytes:
    """The attachment's bytes, re-hashed against the SHA-256 recorded at upload.

    :raises AttachmentTampered: when the file is missing or its bytes changed.
    """
    try:
        content = stored_path(attachment.sha256).read_bytes()
    except (ValueError, OSError) as exc:
        raise AttachmentTampered("附件文件缺失，无法下载") from exc
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise AttachmentTampered(
            "附件文件已被改动（SHA-256 与上传时记录的不符），为防止使用被篡改的文件，已拒绝下载；"
            "请联系管理员核查"
        )
    return content


def _store(content: bytes, sha256: str) -> None:
    """Write the content once under its hash (atomically: a reader never sees half a file)."""
    path = stored_path(sha256)
    if path.exists() and _file_digest(path) == sha256:
        return  # a file overwritten on disk is replaced by the genuine upload
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_content(content: bytes) -> str:
    """Store generated bytes (an issued document) under their SHA-256; returns the hash. The
    caller adds the ``Attachment`` row and its audit event in its own transaction."""
    sha256 = hashlib.sha256(content).hexdigest()
    _store(content, sha256)
    return sha256


def add_attachment(user: User, case: Case, file_storage: FileStorage | None) -> Attachment:
    """Attach an uploaded file to a case and record ``attachment_added`` (one transaction).

    The caller has checked that ``user`` may attach files to ``case``.

    :param file_storage: the upload (``request.files["file"]``).
    :raises AttachmentRejected: no file, empty, too large, a type not allowed, content that
        is not what the extension says, or a file name with a path.
    :raises Conflict: when the case's audit chain moved meanwhile (retry).
    """
    if file_storage is None or not file_storage.filename:
        raise AttachmentRejected("请选择要上传的文件")
    name = clean_filename(file_storage.filename)
    ext = _extension(name)
    if ext not in MIME:
        raise AttachmentWrongType(f"不支持该文件类型，只能上传{ALLOWED_TEXT}文件")
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024)
    content = file_storage.stream.read(limit + 1)
    if not content:
        raise AttachmentRejected("文件是空的")
    if len(content) > limit:
        raise AttachmentTooLarge(f"文件过大，不能超过{limit // (1024 * 1024)}MB")
    if not content_matches(ext, content):
        raise AttachmentWrongType(f"文件内容与扩展名（.{ext}）不符，请上传真实的{ext.upper()}文件")
    if len(name) <= len(ext) + 1:  # only an extension was left of the name
        name = f"附件.{ext}"
    sha256 = store_content(content)
    now = datetime.now(UTC)
    attachment = Attachment(
        case_id=case.id,
        filename=name,
        mime=MIME[ext],
        size=len(content),
        sha256=sha256,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    lock_case(case.id)  # the audit chain's head as stored now (the upload took a while)
    db.session.add(attachment)
    db.session.flush()
    append_event(
        case.id,
        "attachment_added",
        actor=user,
        data={
            "attachment": attachment.id,
            "filename": name,
            "sha256": sha256,
            "size": len(content),
        },
        at=now,
    )
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError) as exc:
        db.session.rollback()
        raise Conflict("案件已被他人更新，请刷新后重试") from exc
    return attachment


def content_disposition(attachment: Attachment) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    ext = _extension(attachment.filename) or "bin"
    fallback = f"attachment-{attachment.id}.{ext}"
    encoded = quote(attachment.filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
