"""The place picker of the citizen form: districts and their streets and towns, from the
gazetteer (data/places.toml) and the units' parents (data/units.toml). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from routing.places import Place
from routing.units import Unit


@dataclass(frozen=True)
class PlaceGroup:
    """One district and the streets and towns under it (values are place names)."""

    district: str
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Picker:
    """What the form offers and how a chosen value resolves to (district, street)."""

    groups: tuple[PlaceGroup, ...]
    resolved: dict[str, tuple[str, str]]

    def resolve(self, value: str) -> tuple[str, str] | None:
        """(district, street) of a picked value ("" street for a whole district), or None."""
        return self.resolved.get(value)


def picker(places: Iterable[Place], units: Iterable[Unit]) -> Picker:
    """Districts in gazetteer order, each with its streets and towns in gazetteer order."""
    places = list(places)
    parent = {u.code: u.parent for u in units}
    district_of_unit = {p.unit: p.name for p in places if p.kind == "district"}
    streets: dict[str, list[str]] = {name: [] for name in district_of_unit.values()}
    resolved = {name: (name, "") for name in district_of_unit.values()}
    for place in places:
        if place.kind not in ("street", "town"):
            continue
        # A street is either its own unit (under a district) or handled by the district itself.
        district = district_of_unit.get(place.unit) or district_of_unit.get(
            parent.get(place.unit, "")
        )
        if district is None or place.name in resolved:
            continue  # a street whose district is not in the gazetteer is only found in text
        streets[district].append(place.name)
        resolved[place.name] = (district, place.name)
    groups = tuple(PlaceGroup(d, tuple(s)) for d, s in streets.items())
    return Picker(groups, resolved)
