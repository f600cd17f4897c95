"""The inspected organisation (被巡视/巡察单位): its type and the places its name states.

A first, cue-based version: org_type from keywords in `org_types.csv` (first match wins, in file order), and
province / city / county read from the administrative suffixes (省 市 区 县) of the organisation's name, the
publisher's name or the contact address, whichever states them first. It only reports what a name says; it
does not look places up.
"""

import csv
import re
from functools import cache
from pathlib import Path

import polars as pl

from transforms.places import resolve_place

_ORG_TYPES_CSV = Path(__file__).with_name("org_types.csv")

# A place name is 1-7 CJK characters before its suffix; 中共 and 委员会 wrap party-committee names.
_PLACE = re.compile(
    r"^(?:中共)?(?P<province>[\u4e00-\u9fff]{1,7}?(?:省|自治区))?"
    r"(?P<city>[\u4e00-\u9fff]{1,7}?(?:市|自治州|地区|盟))?"
    r"(?P<county>[\u4e00-\u9fff]{1,7}?(?:区|县|旗))?"
)


@cache
def org_type_rules() -> tuple[tuple[str, str], ...]:
    with _ORG_TYPES_CSV.open(encoding="utf-8") as handle:
        return tuple((row["keyword"], row["org_type"]) for row in csv.DictReader(handle))


def org_type(name: str | None) -> str | None:
    """Type of an organisation from keywords in its name, or None when no cue matches."""
    if not name:
        return None
    core = re.sub(r"^中共|(?:委员会|党委|党组)$", "", name)
    for keyword, kind in org_type_rules():
        if keyword in core:
            return kind
    return None


def places_in_name(name: str | None) -> dict[str, str | None]:
    """Province, city and county stated by the leading administrative names of `name`."""
    empty = {"province": None, "city": None, "county": None}
    if not name:
        return empty
    match = _PLACE.match(name)
    return {key: match.group(key) for key in empty} if match else empty


def resolve_places(*names: str | None) -> dict[str, str | None]:
    """Each level from the first of `names` that states it (organisation, then publisher, then address)."""
    found: dict[str, str | None] = {"province": None, "city": None, "county": None}
    for name in names:
        for level, value in places_in_name(name).items():
            found[level] = found[level] or value
    return found


def organizations(metadata: pl.DataFrame) -> pl.DataFrame:
    """One row per notice: content_sha256, name, org_type, province, city, county.

    `metadata` needs inspected_unit, publisher and contact_address (extract_metadata's output).
    """
    rows = []
    for row in metadata.select("content_sha256", "inspected_unit", "publisher", "contact_address").iter_rows(named=True):
        name = row["inspected_unit"]
        names = (name, row["publisher"], row["contact_address"])
        # The division dataset (transforms.places) first, from the first name it resolves; the suffix
        # reading above only when none does (the dataset is missing, or the names are not in it).
        looked_up = next((found for text in names if (found := resolve_place(text))["adcode"]), None)
        places = looked_up or {**resolve_places(*names), "township": None, "adcode": None}
        rows.append({"content_sha256": row["content_sha256"], "name": name, "org_type": org_type(name), **places})
    schema = {k: pl.String for k in ("content_sha256", "name", "org_type", "province", "city", "county", "township", "adcode")}
    return pl.DataFrame(rows, schema=schema)
