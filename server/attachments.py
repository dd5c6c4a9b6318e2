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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from server.audit import append_event
from server.extensions import db
from server.models import Attachment, Case, Task, User
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


#: The files a form (registration, a task) takes and the pages preview: photos and scans.
PREVIEWABLE = ("pdf", "png", "jpg", "jpeg")
PREVIEWABLE_TEXT = "JPG、PNG 照片或 PDF 扫描件"
#: Files one form submission may carry.
MAX_FILES = 10


@dataclass(frozen=True)
class Upload:
    """An uploaded file that passed the checks, not stored yet."""

    name: str
    ext: str
    content: bytes


def check_upload(file_storage: FileStorage | None, kinds: tuple[str, ...] | None = None) -> Upload:
    """Read and check one upload: its name, size, type and content.

    :param kinds: the extensions accepted (default: every type :data:`MIME` knows).
    :raises AttachmentRejected: no file, empty, too large, a type not allowed, content that
        is not what the extension says, or a file name with a path.
    """
    if file_storage is None or not file_storage.filename:
        raise AttachmentRejected("请选择要上传的文件")
    name = clean_filename(file_storage.filename)
    ext = _extension(name)
    if ext not in MIME or (kinds is not None and ext not in kinds):
        allowed = ALLOWED_TEXT if kinds is None else PREVIEWABLE_TEXT
        raise AttachmentWrongType(f"不支持该文件类型（{name}），只能上传{allowed}文件")
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024)
    content = file_storage.stream.read(limit + 1)
    if not content:
        raise AttachmentRejected(f"文件是空的（{name}）")
    if len(content) > limit:
        raise AttachmentTooLarge(f"文件过大（{name}），不能超过{limit // (1024 * 1024)}MB")
    if not content_matches(ext, content):
        raise AttachmentWrongType(
            f"文件内容与扩展名（.{ext}）不符（{name}），请上传真实的{ext.upper()}文件"
        )
    if len(name) <= len(ext) + 1:  # only an extension was left of the name
        name = f"附件.{ext}"
    return Upload(name, ext, content)


def check_form_uploads(files: list[FileStorage]) -> list[Upload]:
    """The photos and scans sent with a form (registration, a task): at most
    :data:`MAX_FILES`, each a JPG, PNG or PDF file; empty file inputs are ignored.

    :raises AttachmentRejected: naming the first file refused (nothing is stored).
    """
    chosen = [f for f in files if f is not None and f.filename]
    if len(chosen) > MAX_FILES:
        raise AttachmentRejected(f"一次最多上传{MAX_FILES}个文件")
    return [check_upload(f, PREVIEWABLE) for f in chosen]


def record_upload(
    user: User, case: Case, upload: Upload, now: datetime, task: Task | None = None
) -> Attachment:
    """Store the file and add its row and ``attachment_added`` event to the session (the
    caller commits, in the transaction that locked the case).

    :param task: the step whose form carried the file (recorded in the event).
    """
    sha256 = store_content(upload.content)
    attachment = Attachment(
        case_id=case.id,
        filename=upload.name,
        mime=MIME[upload.ext],
        size=len(upload.content),
        sha256=sha256,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    db.session.add(attachment)
    db.session.flush()
    data: dict[str, Any] = {
        "attachment": attachment.id,
        "filename": upload.name,
        "sha256": sha256,
        "size": len(upload.content),
    }
    if task is not None:
        data["task"] = task.id
        data["task_label"] = task.label
    append_event(
        case.id,
        "attachment_added",
        actor=user,
        task_name=task.name if task is not None else None,
        data=data,
        at=now,
    )
    return attachment


def add_attachments(user: User, case: Case, uploads: list[Upload]) -> list[Attachment]:
    """Attach checked uploads to a case, recording each in its chain (one transaction).

    The caller has checked that ``user`` may attach files to ``case``.

    :raises Conflict: when the case's audit chain moved meanwhile (retry).
    """
    now = datetime.now(UTC)
    lock_case(case.id)  # the audit chain's head as stored now (the upload took a while)
    attachments = [record_upload(user, case, upload, now) for upload in uploads]
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError) as exc:
        db.session.rollback()
        raise Conflict("案件已被他人更新，请刷新后重试") from exc
    return attachments


def add_attachment(user: User, case: Case, file_storage: FileStorage | None) -> Attachment:
    """Attach an uploaded file to a case and record ``attachment_added`` (one transaction).

    The caller has checked that ``user`` may attach files to ``case``.

    :param file_storage: the upload (``request.files["file"]``).
    :raises AttachmentRejected: no file, empty, too large, a type not allowed, content that
        is not what the extension says, or a file name with a path.
    :raises Conflict: when the case's audit chain moved meanwhile (retry).
    """
    return add_attachments(user, case, [check_upload(file_storage)])[0]


def may_preview(attachment: Attachment) -> bool:
    """Whether the pages show the file itself (a photo, a PDF) rather than a link only."""
    return attachment.mime in ("application/pdf", "image/png", "image/jpeg")


def content_disposition(attachment: Attachment) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    ext = _extension(attachment.filename) or "bin"
    fallback = f"attachment-{attachment.id}.{ext}"
    encoded = quote(attachment.filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def inline_disposition(attachment: Attachment) -> str:
    """``inline`` with the same names as :func:`content_disposition` (shown in the page)."""
    return "inline" + content_disposition(attachment)[len("attachment") :]
