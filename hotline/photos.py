"""Photos citizens attach: what a file really is (from its bytes) and a name safe to show.

Pure functions: no file system, no web. Storage is `hotline.services.photo_store`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_PHOTOS = 5


@dataclass(frozen=True)
class PhotoType:
    """A photo format we accept: its MIME type and the extension it is stored under."""

    content_type: str
    extension: str


JPEG = PhotoType("image/jpeg", "jpg")
PNG = PhotoType("image/png", "png")
HEIC = PhotoType("image/heic", "heic")
BY_EXTENSION = {t.extension: t for t in (JPEG, PNG, HEIC)}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# HEIF brands a phone's HEIC photo may carry, as major or compatible brand (ISO/IEC 23008-12).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"})
# A stored photo's name: the content's SHA-256 and our own extension, nothing a client chose.
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|heic)$")


def sniff(data: bytes) -> PhotoType | None:
    """The photo type the bytes say (JPEG, PNG or HEIC), or None; the file name is ignored."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if _is_heif(data):
        return HEIC
    return None


def _is_heif(data: bytes) -> bool:
    """An ISO-BMFF `ftyp` box at offset 4 naming a HEIF brand (major or compatible)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[0:4], "big")
    # The box holds: size, "ftyp", major brand, minor version, then 4-byte compatible brands.
    if size < 16 or size > len(data) or size % 4:
        return False
    if data[8:12] in HEIF_BRANDS:
        return True
    return any(data[i : i + 4] in HEIF_BRANDS for i in range(16, size, 4))


def clean_name(name: str, photo_type: PhotoType) -> str:
    """The citizen's file name fit to show staff: no path, no control characters, ≤ 100 chars.

    The extension is made to match the real type, so a `.jpg` that is a PNG is not shown as
    one (and the name never decides how the file is served).
    """
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base.strip(" .")
    stem = stem[:90] or "照片"
    return f"{stem}.{photo_type.extension}"
