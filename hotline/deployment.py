"""Deployment data loaded once at start-up: units, router, classifier, SLA rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Deployment:
    """Everything read from data/ that services need, validated at start-up."""

    data_dir: Path
    router: Any = None
    model: Any = None
    sla: Any = None
    public_base_url: str = "http://127.0.0.1:8000"
    extras: dict[str, Any] = field(default_factory=dict)

    def propose(
        self, *, text: str, address: str, kind: str, category: str | None
    ) -> dict[str, Any]:
        """The router's proposal for a new ticket, as stored on the ticket."""
        if self.router is None:
            return {"category": category, "needs_review": True, "rule": "未配置路由规则"}
        return self.router.propose(text=text, address=address, kind=kind, category=category)

    def must_avoid(self, *, kind: str, text: str, codes: list[str]) -> dict[str, str]:
        """Units among `codes` this ticket names and so must not handle (举报 avoidance)."""
        if self.router is None:
            return {}
        return dict(self.router.routing.must_avoid(kind=kind, text=text, codes=codes))
