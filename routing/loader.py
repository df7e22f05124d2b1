"""Load units, gazetteer and rules from a data directory in one call."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.places import Gazetteer, load_places
from routing.router import RoutingDecision, route
from routing.rules import RuleSet, load_rules
from routing.units import Unit, load_units

UNITS_FILE = "units.toml"
PLACES_FILE = "places.toml"
RULES_FILE = "routing.toml"


@dataclass(frozen=True)
class Routing:
    """Everything routing needs, loaded and cross-checked."""

    units: tuple[Unit, ...]
    gazetteer: Gazetteer
    rules: RuleSet

    def unit(self, code: str) -> Unit:
        """The unit with this code (KeyError if unknown)."""
        return self.rules.units[code]

    def must_avoid(self, *, kind: str, text: str, codes: Sequence[str]) -> dict[str, str]:
        """Units among `codes` this ticket must not reach (code → why, for people)."""
        return self.rules.must_avoid(kind, text, codes)

    def route(
        self,
        *,
        text: str,
        address: str | None = None,
        kind: str | None = None,
        category: str | None = None,
        confidence: float = 1.0,
        top3: Sequence[Any] | None = None,
    ) -> RoutingDecision:
        """Route one ticket with these rules and gazetteer."""
        return route(
            rules=self.rules,
            gazetteer=self.gazetteer,
            text=text,
            address=address,
            kind=kind,
            category=category,
            confidence=confidence,
            top3=top3,
        )


def load_routing(
    data_dir: Path | str,
    *,
    categories: Collection[str] | None = None,
    kinds: Collection[str] | None = None,
    required_categories: Collection[str] = (),
) -> Routing:
    """Load data_dir/units.toml, places.toml and routing.toml (RuleError on any problem).

    The vocabulary arguments are passed to `load_rules` (plain strings; see there).
    """
    base = Path(data_dir)
    units = load_units(base / UNITS_FILE)
    gazetteer = load_places(base / PLACES_FILE, units)
    rules = load_rules(
        base / RULES_FILE,
        units,
        categories=categories,
        kinds=kinds,
        required_categories=required_categories,
    )
    return Routing(units=tuple(units), gazetteer=gazetteer, rules=rules)
