"""Photos on disk under UPLOAD_DIR, addressed by their SHA-256 (the same photo is kept once).

A file is written to a temporary name beside its final place and renamed, so a reader (or a
crash) never sees half a photo. Files are found only by their stored name, which is checked
against `hotline.photos.STORED_NAME`: nothing a client sends becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hotline.photos import STORED_NAME, PhotoType


@dataclass(frozen=True)
class Stored:
    """A photo on disk: its stored name, and whether this call wrote it (else it was there)."""

    name: str
    created: bool


def path_of(root: Path, stored_name: str) -> Path | None:
    """Where a stored photo lives, or None for a name that is not one of ours."""
    if not STORED_NAME.match(stored_name):
        return None
    # Two levels of fan-out keep directories small on file systems that slow down with size.
    return root / stored_name[:2] / stored_name[2:4] / stored_name


def save(root: Path, data: bytes, photo_type: PhotoType) -> Stored:
    """Write a photo (atomically, directories created as needed) and return its stored name."""
    name = f"{hashlib.sha256(data).hexdigest()}.{photo_type.extension}"
    target = path_of(root, name)
    assert target is not None
    if target.is_file():
        return Stored(name, created=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Stored(name, created=True)


def discard(root: Path, stored: list[Stored]) -> None:
    """Remove the files this request wrote (those that were already there belong to others)."""
    for item in stored:
        path = path_of(root, item.name)
        if item.created and path is not None:
            path.unlink(missing_ok=True)
