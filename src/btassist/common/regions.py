"""The regions running BT: one list, for the roster, the catalogue, the FAQ and the command line.

The `region` table holds the same codes and names (the first migration inserts them); this list
is what code validates against without a database round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from btassist.common.language import Language
from btassist.common.text import fold


@dataclass(frozen=True)
class RegionInfo:
    """A region's code (what coordinators write in files), names and what people call it."""

    code: str
    name_sv: str
    name_en: str
    aliases: tuple[str, ...] = ()

    def name(self, language: Language) -> str:
        """The region's name in `language`."""
        return self.name_sv if language is Language.sv else self.name_en


REGIONS: tuple[RegionInfo, ...] = (
    RegionInfo(
        "vgr",
        "Västra Götalandsregionen",
        "Region Västra Götaland",
        ("västra götaland", "västra götalandsregionen"),
    ),
    RegionInfo("kronoberg", "Region Kronoberg", "Region Kronoberg"),
    RegionInfo("gavleborg", "Region Gävleborg", "Region Gävleborg", ("gävleborg",)),
    RegionInfo("orebro", "Region Örebro län", "Region Örebro County", ("örebro", "örebro län")),
    RegionInfo(
        "jonkoping", "Region Jönköpings län", "Region Jönköping County", ("jönköping", "rjl")
    ),
    RegionInfo("halland", "Region Halland", "Region Halland"),
)
REGION_CODES: tuple[str, ...] = tuple(region.code for region in REGIONS)
_BY_WORD = {
    fold(word): region
    for region in REGIONS
    for word in (region.code, region.name_sv, region.name_en, *region.aliases)
}


class UnknownRegion(ValueError):
    """A region code or name that is none of ours; the message lists the valid ones."""

    def __init__(self, given: str) -> None:
        super().__init__(f"unknown region {given!r}; use one of {region_choices()}")
        self.given = given


def region_choices() -> str:
    """`vgr (västra götaland, …), kronoberg, gavleborg (gävleborg), …` for messages."""
    return ", ".join(
        f"{region.code} ({', '.join(region.aliases)})" if region.aliases else region.code
        for region in REGIONS
    )


def region_info(code: str) -> RegionInfo:
    """The region with this code or name (case, å/ä/ö and "Region …" forgiven)."""
    found = _BY_WORD.get(fold(code))
    if found is None:
        raise UnknownRegion(code)
    return found


def region_code(text: str) -> str:
    """The code of the region `text` names; raises `UnknownRegion` listing the valid ones."""
    return region_info(text).code


def region_name(code: str, language: Language) -> str:
    """A region's name for people; an unknown code is shown as it is."""
    found = _BY_WORD.get(fold(code))
    return code if found is None else found.name(language)
