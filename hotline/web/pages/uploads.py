"""Photos a citizen posts with a form (/submit, the tracking page's 补充说明): the multipart
body read within a bound, each photo checked by count, size and its bytes, then re-encoded
without metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from hotline.citizens import photo_clean
from hotline.citizens.photos import MAX_PHOTOS, sniff
from hotline.services import web_intake

# Files beyond MAX_PHOTOS are still parsed (up to this many) so the form can say how many
# were chosen and keep what was typed; more than this is no person's form.
PARSE_MAX_FILES = 2 * MAX_PHOTOS


class BodyTooLarge(Exception):
    """The request body passed the form's size bound."""


def is_file(value: Any) -> bool:
    """A file part the browser really filled (an empty file input posts a nameless part)."""
    return isinstance(value, UploadFile) and bool(value.filename or value.size)


@dataclass(frozen=True)
class Upload:
    """A posted photo that passed the cheap checks (count, size, type by its bytes)."""

    name: str
    data: bytes


async def checked_uploads(form: Any, max_bytes: int) -> tuple[list[Upload], str]:
    """The photos posted, checked by count, size and their bytes' type; or the first
    problem, in Chinese."""
    files = [f for f in form.getlist("photos") if is_file(f)]
    if len(files) > MAX_PHOTOS:
        return [], f"最多上传 {MAX_PHOTOS} 张照片，您选择了 {len(files)} 张。"
    uploads = []
    for upload in files:
        name = upload.filename or "照片"
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            mb = max_bytes // (1024 * 1024)
            return [], f"「{name}」超过 {mb} MB。请压缩或截图后重新选择。"
        if sniff(data) is None:
            return [], f"「{name}」不是 JPEG、PNG 或 HEIC 格式的照片。请选择手机拍摄的照片。"
        uploads.append(Upload(name, data))
    return uploads, ""


async def cleaned_photos(uploads: list[Upload]) -> tuple[list[web_intake.Photo], str]:
    """Each photo re-encoded without metadata (hotline.citizens.photo_clean), or why not."""
    photos = []
    for upload in uploads:
        try:
            # CPU-bound: a worker thread keeps the server answering meanwhile.
            cleaned = await run_in_threadpool(photo_clean.clean, upload.data)
        except photo_clean.PhotoRefused as exc:
            return [], f"「{upload.name}」：{exc.message}"
        photos.append(web_intake.Photo(cleaned.photo_type, cleaned.data))
    return photos, ""


async def read_form(request: Request, limit: int) -> Any:
    """The multipart form, refusing a body over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLarge()
        return message

    bounded = Request(request.scope, receive)
    return await bounded.form(max_files=PARSE_MAX_FILES, max_fields=50)
