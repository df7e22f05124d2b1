"""Responsible units: synchronised from data/units.toml, cached for presentation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.exceptions import IntegrityError

from hotline.domain.models import Unit, User
from hotline.services import staff_mail

_directory: dict[str, Unit] = {}


async def sync_units(units: Iterable[Any]) -> int:
    """Insert or update units from the data file; units no longer listed become inactive."""
    seen: set[str] = set()
    for unit in units:
        seen.add(unit.code)
        row = await Unit.get_or_none(code=unit.code)
        values = {
            "name": unit.name,
            "kind": unit.kind,
            "parent_code": unit.parent or "",
            "email": unit.email or "",
            "active": True,
        }
        if row is None:
            try:
                await Unit.create(code=unit.code, **values)
            except IntegrityError:
                # Another process (a second web worker, a CLI command) inserted it first.
                await Unit.filter(code=unit.code).update(**values)
        elif any(getattr(row, k) != v for k, v in values.items()):
            await Unit.filter(id=row.id).update(**values)
    await Unit.exclude(code__in=list(seen)).update(active=False)
    await refresh_directory()
    return len(seen)


async def refresh_directory() -> dict[str, Unit]:
    """Reload the in-process unit cache (units change only when data/ is re-read)."""
    _directory.clear()
    staff_mail.forget()  # units changed: their staff's addresses are read again too
    for row in await Unit.all():
        _directory[row.code] = row
    return _directory


async def unit_directory() -> dict[str, Unit]:
    """Units by code, loaded once per process."""
    if not _directory:
        await refresh_directory()
    return _directory


async def active_units() -> list[Unit]:
    """Every active unit, by code."""
    return list(await Unit.filter(active=True).order_by("code"))


async def unit_choices() -> list[tuple[str, str]]:
    """(code, name) of every active unit in the order of data/units.toml, for a form's select."""
    return list(await Unit.filter(active=True).order_by("id").values_list("code", "name"))


async def all_units() -> list[Unit]:
    """Every unit, the active ones first, each group in the order of data/units.toml."""
    return list(await Unit.all().order_by("-active", "id"))


async def unstaffed_codes(codes: Iterable[str] | None = None) -> set[str]:
    """Codes of active units (among `codes`, or all) with no active account to act for them.

    A ticket dispatched there would wait unsigned until its receipt deadline passes: the
    operator is warned at dispatch and the admin page lists such units.
    """
    query = Unit.filter(active=True)
    if codes is not None:
        query = query.filter(code__in=list(codes))
    wanted = set(await query.values_list("code", flat=True))
    if not wanted:
        return set()
    staffed = await User.filter(active=True, unit__code__in=list(wanted)).values_list(
        "unit__code", flat=True
    )
    return wanted - set(staffed)
