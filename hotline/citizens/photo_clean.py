"""A citizen's photo re-encoded with nothing but its pixels: no EXIF (GPS, camera, time), no
XMP, no ICC profile, no text chunks or comments that could identify who took it.

Pure functions over bytes (Pillow and pillow-heif): no file system, no web. CPU-heavy, so
callers run `clean` in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps

from hotline.citizens.photos import JPEG, PNG, PhotoType

pillow_heif.register_heif_opener()

# About a 50-megapixel phone sensor; decoding more could take gigabytes (a "decompression
# bomb": a small file that claims huge dimensions).
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
# JPEG holds these modes as they are; anything else (RGBA, P, I;16 …) becomes RGB.
_JPEG_MODES = frozenset({"RGB", "L", "CMYK"})
# Only the decoders of the types `hotline.citizens.photos.sniff` lets through (fewer parsers to
# attack); Pillow's JPEG opener itself hands a phone's multi-picture JPEG to its MPO reader.
_FORMATS = ("JPEG", "PNG", "HEIF")


class PhotoRefused(ValueError):
    """A photo we will not store; `message` (Chinese) tells the citizen what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


UNREADABLE = "照片无法识别，请换一张。"
TOO_LARGE = f"照片像素过大（上限 {MAX_PIXELS // 10_000} 万像素），请缩小或截图后重新选择。"


@dataclass(frozen=True)
class Cleaned:
    """The re-encoded bytes and the type they are stored as (HEIC becomes JPEG)."""

    data: bytes
    photo_type: PhotoType


def clean(data: bytes) -> Cleaned:
    """The photo decoded, turned upright and re-encoded without metadata; or PhotoRefused."""
    try:
        # Pillow raises DecompressionBombError by itself only past ~179 MP: the header's size
        # is checked here first, before any pixel is decoded.
        with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused(TOO_LARGE)
            # Pixels rotated as the camera's Orientation tag said: the tag itself goes.
            upright = ImageOps.exif_transpose(image)
            target = PNG if image.format == "PNG" else JPEG
            return Cleaned(_encode(upright, target), target)
    except PhotoRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoRefused(TOO_LARGE) from exc
    except Exception as exc:  # noqa: BLE001 - see below
        # Bytes that pass the magic check but do not decode (truncated, corrupt, fake). A
        # decoder fed untrusted bytes may fail with anything (OSError, struct.error, libheif's
        # RuntimeError …): each means the same to the citizen.
        raise PhotoRefused(UNREADABLE) from exc


def _encode(image: Image.Image, target: PhotoType) -> bytes:
    """Pixels only: the info dict is emptied because Pillow's savers fall back to it for
    ICC profiles and comments even when none is passed."""
    transparency = image.info.get("transparency")
    image.info = {}
    out = io.BytesIO()
    if target is PNG:
        if transparency is not None:
            image.info["transparency"] = transparency  # pixels, not metadata
        image.save(out, "PNG", optimize=False)
    else:
        if image.mode not in _JPEG_MODES:
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
