"""Turn on reply review (答复审核) for some kinds in a test, on the shared deployment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from hotline.runtime.deployment import Deployment


@contextmanager
def reviewing(deployment: Deployment, *kinds: str) -> Iterator[None]:
    """Within the block, units' replies on tickets of `kinds` go to the centre first."""
    assert deployment.sla is not None
    policies = deployment.sla.policies
    deployment.sla.policies = replace(policies, review_kinds=frozenset(kinds))
    try:
        yield
    finally:
        deployment.sla.policies = policies
