"""The ticket router: classifier proposes a category, routing rules pick the units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifier.model import CategoryModel
    from routing.loader import Routing


@dataclass
class TicketRouter:
    """Classifier + routing rules, loaded once per process."""

    routing: Routing
    model: CategoryModel | None

    def propose(
        self, *, text: str, address: str, kind: str, category: str | None
    ) -> dict[str, Any]:
        """The proposal stored on a new ticket: units, category, confidence and why."""
        top3: list[tuple[str, float]] = []
        tokens: list[str] = []
        if category:
            confidence = 1.0  # the operator chose the category
        elif self.model is not None:
            prediction = self.model.predict(text)
            category = prediction.category
            confidence = float(prediction.probability)
            top3 = [(c, round(float(p), 4)) for c, p in prediction.top3]
            tokens = list(prediction.tokens)
        else:
            confidence = 0.0
        decision = self.routing.route(
            text=text,
            address=address,
            kind=kind,
            category=category,
            confidence=confidence,
            top3=top3 or None,
        )
        return {
            "lead_unit": decision.lead_unit,
            "assisting_units": list(decision.assisting_units),
            "category": decision.category or category,
            "confidence": round(float(decision.confidence), 4),
            "needs_review": bool(decision.needs_review),
            "rule": decision.rule,
            "place": decision.place,
            "district": decision.district,
            "street": decision.street,
            "top3": top3,
            "tokens": tokens[:50],
        }
