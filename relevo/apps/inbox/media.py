"""The attachments customers send (images, documents, audio), stored as
files under ``media_dir/<tenant>/<id>``; the message record carries
``media: {id, type, mime, filename, size}``. The id is chosen here (random),
never taken from the provider or a caller, so it cannot name a path.

Agents fetch one through ``GET /api/inbox/messages/{id}/media`` (their
tenant's message only): images and audio inline, anything else as a download,
always ``nosniff`` and sandboxed so a stored file cannot run as a page.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from typing import Any

from starlette.responses import Response

from ..kit.errors import not_found

__all__ = ["MEDIA_TYPES", "MediaStore"]

MEDIA_TYPES = {"image": "Imagen", "document": "Documento", "audio": "Audio"}
"""The attachment types stored, with their label in a chat."""

_ID = re.compile(r"^[0-9a-f]{32}$")
_INLINE = ("image/jpeg", "image/png", "image/webp", "audio/")
_MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]{1,100}$")


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, tenant: str, media_id: str) -> Path:
        if not _ID.match(media_id):
            raise not_found(f"no media {media_id!r}", "Ese archivo no existe.")
        return self.root / tenant / media_id

    async def save(
        self, tenant: str, kind: str, data: bytes, mime: str, filename: str | None
    ) -> dict[str, Any]:
        """Store ``data``; the ``media`` value of the message that carries it."""
        media_id = secrets.token_hex(16)
        path = self._path(tenant, media_id)
        await asyncio.to_thread(_write, path, data)
        mime = mime.split(";")[0].strip().lower()
        return {
            "id": media_id,
            "type": kind,
            "mime": mime if _MIME.match(mime) else "application/octet-stream",
            "filename": (filename or "")[:120] or None,
            "size": len(data),
        }

    async def response(self, tenant: str, media: Any) -> Response:
        """The stored file of a message's ``media``, as an HTTP answer."""
        if not isinstance(media, dict) or not isinstance(media.get("id"), str):
            raise not_found("this message has no attachment", "Este mensaje no tiene archivo.")
        path = self._path(tenant, media["id"])
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise not_found("the attachment is gone", "El archivo ya no está.") from None
        mime = str(media.get("mime") or "application/octet-stream")
        inline = mime.startswith(_INLINE)
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": "inline" if inline else "attachment",
        }
        return Response(data, media_type=mime if inline else "application/octet-stream",
                         headers=headers)  # fmt: skip


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
