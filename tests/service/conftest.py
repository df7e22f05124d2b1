"""Service-test fixtures: deployment data without the classifier, and signed-in people."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from hotline.domain.auth import Principal
from hotline.domain.models import User
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.units import sync_units
from hotline.services.users import create_user, principal_of
from hotline.startup.bootstrap import load_deployment


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    """Units, routing and SLA policies from data/ (no classifier model needed)."""
    return load_deployment(load_settings(), with_model=False)


async def make_people(
    deployment: Deployment,
    accounts: Iterable[tuple[str, str, str | None]],
    *,
    now: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> dict[str, Principal]:
    """Load the units, create one account per (username, role, unit), return principals."""
    await sync_units(deployment.extras["units"])
    people: dict[str, Principal] = {}
    for username, role, unit in accounts:
        await create_user(
            username=username,
            role=role,
            password="secret-password",
            now=now,
            unit_code=unit,
            email=f"{username}@test.example",
        )
        people[username] = principal_of(await User.get(username=username).prefetch_related("unit"))
    return people
