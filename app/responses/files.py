"""Evidence files of `file` questions: checked, stored under instance/uploads/ with random names, served
only through a response the person may see."""

from __future__ import annotations

import io
import mimetypes
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from app.questionnaires.qtypes import N_, REGISTRY, AnswerError

#: Content types we send files with (anything else is sent as a generic download).
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}


#: The first bytes every file of a type starts with: a file whose extension promises one of these types but
#: whose content is something else (a renamed program, a damaged download) is refused.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    # Office Open XML and OpenDocument files are zip archives; the older Office formats are OLE2 files.
    **dict.fromkeys(("docx", "xlsx", "pptx", "odt", "ods", "odp", "zip"), (b"PK\x03\x04",)),
    **dict.fromkeys(("doc", "xls", "ppt"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
}


#: What every file of these zip-based types holds (a name, or a folder when it ends with "/"): the Office Open
#: XML content types and the application's folder, or the OpenDocument mimetype and content. A zip archive of
#: anything else, such as a program renamed, starts with the same "PK" bytes.
ZIP_PARTS: dict[str, tuple[str, ...]] = {
    "docx": ("[Content_Types].xml", "word/"), "xlsx": ("[Content_Types].xml", "xl/"),
    "pptx": ("[Content_Types].xml", "ppt/"), **dict.fromkeys(("odt", "ods", "odp"), ("mimetype", "content.xml")),
}


def _has_parts(data: bytes, extension: str) -> bool:
    """Whether a zip-based document holds the parts its type must have (True for other types)."""
    parts = ZIP_PARTS.get(extension)
    if not parts:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return all(part in names if not part.endswith("/") else any(n.startswith(part) for n in names) for part in parts)


def upload_dir() -> Path:
    """instance/uploads/ (created when missing)."""
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(key: str) -> Path | None:
    """The stored file of a key, or None for a key that is not one of ours."""
    if not key or not all(c.isalnum() or c in "-_" for c in key):
        return None
    path = upload_dir() / key
    return path if path.is_file() else None


#: Longest file name kept (in characters): a longer one is shortened before its extension.
NAME_LIMIT = 200


def _clean_name(name: str) -> str:
    """The uploaded file's own name, without its folders and unprintable characters, at most NAME_LIMIT
    characters: a longer one loses the end of its stem, never its extension (which decides the type)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())
    if len(name) > NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            name = stem[:NAME_LIMIT - len(extension) - 2].rstrip() + "…." + extension
        else:
            name = name[:NAME_LIMIT]
    return name or "file"


def store_upload(question, storage: FileStorage, *, definition=None) -> dict:
    """Check an uploaded file against the question's types and size limit, then store it under a random
    name; returns the answer value. Raises AnswerError (nothing stored) when refused."""
    name = _clean_name(storage.filename or "")
    limit = int(question.size_limit_mb * 1024 * 1024)
    data = storage.stream.read(limit + 1)
    if not data:
        raise AnswerError(N_("The file is empty."))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = CONTENT_TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    value = {"name": name, "key": secrets.token_urlsafe(24), "size": len(data), "content_type": content_type}
    checked = REGISTRY["file"].normalise(question, value, definition=definition)  # type and size
    signatures = SIGNATURES.get(extension)
    if (signatures and not data.startswith(signatures)) or not _has_parts(data, extension):
        raise AnswerError(N_("“{name}” is not a {ext} file inside: it may be damaged or have the wrong extension."),
                          name=name, ext=extension.upper())
    (upload_dir() / value["key"]).write_bytes(data)
    return checked


def file_links(values: dict, url_for_key) -> dict[str, dict]:
    """{question id: {"name", "url"}} of the stored files among a response's answers."""
    return {qid: {"name": value.get("name", ""), "url": url_for_key(value["key"])}
            for qid, value in values.items() if isinstance(value, dict) and "key" in value}


def find_file(values: dict, key: str) -> dict | None:
    """The stored answer value (a file) of a response's answers with this key, if any."""
    for value in values.values():
        if isinstance(value, dict) and value.get("key") == key and "name" in value:
            return value
    return None


def discard_replaced(before: dict, after: dict) -> None:
    """Delete the stored files that the answers `before` held and the answers `after` no longer hold (removed or
    replaced by a new upload): nothing links to them any more, and a person who removes a document that may
    not be shared expects it gone."""
    kept = {value.get("key") for value in after.values() if isinstance(value, dict)}
    for value in before.values():
        if isinstance(value, dict) and value.get("key") and value["key"] not in kept:
            path = path_for(value["key"])
            if path is not None:
                path.unlink(missing_ok=True)
