"""Routing core: from a ticket (category, place, kind) to lead and assisting units. Pure.

Data: data/units.toml (units), data/places.toml (gazetteer), data/routing.toml (rules),
validated at load time (RuleError names file, line and field). Precedence in route():
keyword overrides > category rule (属地 via the place in the address, then the text)
> fallback; then kind rules (举报: a unit named in the text, in whatever words, neither
leads nor assists, nor do its superiors and subordinates; see routing.names).
"""

from routing.errors import RuleError
from routing.loader import Routing, load_routing
from routing.names import Avoidance, UnitNames, normalise
from routing.places import Gazetteer, Place, PlaceMatch, load_places
from routing.router import RoutingDecision, route
from routing.rules import RuleSet, load_rules
from routing.units import Unit, load_units

__all__ = [
    "Avoidance",
    "Gazetteer",
    "Place",
    "PlaceMatch",
    "Routing",
    "RoutingDecision",
    "RuleError",
    "RuleSet",
    "Unit",
    "UnitNames",
    "load_places",
    "load_routing",
    "load_rules",
    "load_units",
    "normalise",
    "route",
]
