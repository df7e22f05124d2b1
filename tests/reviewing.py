"""Turn on reply review (答复审核) for some kinds in a test: on the shared deployment, or
for a server the test starts (a data directory whose sla.toml reviews them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

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


def reviewing_data_dir(target: Path, source: Path, *kinds: str) -> Path:
    """A data directory like `source` (linked, not copied) whose sla.toml reviews `kinds`:
    pass it to a server as HOTLINE_DATA_DIR."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name != "sla.toml":
            (target / item.name).symlink_to(item.resolve())
    text = (source / "sla.toml").read_text(encoding="utf-8")
    listed = ", ".join(f'"{k}"' for k in kinds)
    text, found = re.subn(r"(?m)^review_kinds = .*$", f"review_kinds = [{listed}]", text)
    assert found == 1, "sla.toml has no review_kinds line"
    (target / "sla.toml").write_text(text, encoding="utf-8")
    return target
