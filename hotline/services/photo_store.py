"""Photos on disk under UPLOAD_DIR, addressed by their SHA-256 (the same photo is kept once).

A file is written to a temporary name beside its final place and renamed, so a reader (or a
crash) never sees half a photo. Files are found only by their stored name, which is checked
against `hotline.citizens.photos.STORED_NAME`: nothing a client sends becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hotline.citizens.photos import STORED_NAME, PhotoType


@dataclass(frozen=True)
class Stored:
    """A photo on disk: its stored name, whether this call wrote it, and the file's mtime then."""

    name: str
    created: bool
    mtime_ns: int = 0


def path_of(root: Path, stored_name: str) -> Path | None:
    """Where a stored photo lives, or None for a name that is not one of ours."""
    if not STORED_NAME.match(stored_name):
        return None
    # Two levels of fan-out keep directories small on file systems that slow down with size.
    return root / stored_name[:2] / stored_name[2:4] / stored_name


def save(root: Path, data: bytes, photo_type: PhotoType) -> Stored:
    """Write a photo (atomically, directories created as needed) and return its stored name.

    Blocking (hashing, fsync): async callers run it in a worker thread.
    """
    name = f"{hashlib.sha256(data).hexdigest()}.{photo_type.extension}"
    target = path_of(root, name)
    assert target is not None
    try:
        # Already there: touched, so a cleanup racing this request sees the file as just used
        # (retention keeps young files; `discard` keeps files touched after it wrote them).
        os.utime(target)
        return Stored(name, created=False, mtime_ns=target.stat().st_mtime_ns)
    except FileNotFoundError:
        pass
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
    return Stored(name, created=True, mtime_ns=target.stat().st_mtime_ns)


def save_all(root: Path, photos: list[tuple[bytes, PhotoType]]) -> list[Stored]:
    """Save several photos; if one fails, the files written so far are removed again."""
    stored: list[Stored] = []
    try:
        for data, photo_type in photos:
            stored.append(save(root, data, photo_type))
    except BaseException:
        discard(root, stored)
        raise
    return stored


def discard(root: Path, stored: list[Stored], keep: frozenset[str] = frozenset()) -> None:
    """Remove the files this request wrote, unless named in `keep` or touched since.

    A file that was already there belongs to others; one whose mtime moved was reused by a
    concurrent request (see `save`) whose ticket may not have committed yet.
    """
    for item in stored:
        path = path_of(root, item.name)
        if not item.created or path is None or item.name in keep:
            continue
        try:
            if path.stat().st_mtime_ns == item.mtime_ns:
                path.unlink()
        except FileNotFoundError:
            pass


def remove_unless_recent(root: Path, name: str, *, min_age: float, now: float) -> bool:
    """Delete a stored photo unless it was written or reused in the last `min_age` seconds."""
    path = path_of(root, name)
    try:
        if path is None or now - path.stat().st_mtime < min_age:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    return True
