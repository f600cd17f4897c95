"""Places named by an organisation (中共常州市新北区薛家镇委员会 → 江苏省 常州市 新北区 薛家镇), looked up in a
maintained administrative-division dataset rather than a hand list.

The dataset is the national division code table (行政区划代码: 12-digit adcode, name) shipped by the
`cpca` package (cpca/resources/adcodes.csv). It is read as a file: importing cpca itself needs the
deprecated pkg_resources, and its address-splitting is not needed here. Levels follow the code: a
province code ends in ten zeros, a city (prefecture) code in eight, a county/district code in six.

Resolution, the documented rule:
1. every county, city and province name of the table that occurs in the text is a candidate (full names
   only: 新北区, 常州市, 江苏省; short names like 常州 are too ambiguous in running text);
2. a county is kept when its code agrees with the cities / provinces also named (新北区 exists once, but a
   名 like 城关镇's county 城关区 would need its city); when several counties remain, none is taken;
3. the city and province follow from the kept county's code, else from a named city, else a named province;
4. the township (镇 / 乡 / 街道) is the name written right after the county or city (薛家镇); the code
   table stops at counties, so it is read from the text, not looked up.
Nothing is guessed: a level that the text and the table do not settle stays NULL.
"""

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_NOT_A_CITY = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_TOWNSHIP = re.compile(r"^(?P<township>[\u4e00-\u9fff]{1,8}?(?:街道|镇|乡))")


@dataclass(frozen=True)
class Division:
    code: str
    name: str


@cache
def dataset_path() -> Path | None:
    """The adcodes.csv shipped by cpca, or None when the package is not installed."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    return path if path.exists() else None


@cache
def divisions() -> dict[str, dict[str, list[Division]]]:
    """Names → divisions, per level ('province', 'city', 'county'); empty when the dataset is missing."""
    levels: dict[str, dict[str, list[Division]]] = {"province": {}, "city": {}, "county": {}}
    path = dataset_path()
    if path is None:
        return levels
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["adcode"].strip().ljust(12, "0")
            name = row["name"].strip()
            if len(name) < 2 or not code.isdigit():
                continue
            if code[2:] == "0" * 10:
                level = "province"
            elif code[4:] == "0" * 8:
                level = "city"
            elif code[6:] == "0" * 6:
                level = "county"
            else:
                continue
            levels[level].setdefault(name, []).append(Division(code, name))
    return levels


@cache
def _name_patterns() -> dict[str, re.Pattern[str] | None]:
    patterns = {}
    for level, names in divisions().items():
        ordered = sorted(names, key=len, reverse=True)
        patterns[level] = re.compile("|".join(map(re.escape, ordered))) if ordered else None
    return patterns


def _named(text: str, level: str) -> list[tuple[Division, int]]:
    """Divisions of `level` whose full name occurs in `text`, with the end offset of the name."""
    pattern = _name_patterns()[level]
    if pattern is None:
        return []
    return [(d, m.end()) for m in pattern.finditer(text) for d in divisions()[level][m.group(0)]]


def _name_of(level: str, code: str) -> str | None:
    return _names_by_code()[level].get(code)


@cache
def _names_by_code() -> dict[str, dict[str, str]]:
    """Code → name, per level: the first name listing the code, in the order of divisions() (a look-up
    instead of a scan of every name of the level)."""
    indexes: dict[str, dict[str, str]] = {}
    for level, names in divisions().items():
        index = indexes.setdefault(level, {})
        for name, found in names.items():
            for division in found:
                index.setdefault(division.code, name)
    return indexes


def resolve_place(text: str | None) -> dict[str, str | None]:
    """province, city, county, township and adcode (the finest code found) named in `text`."""
    empty = {"province": None, "city": None, "county": None, "township": None, "adcode": None}
    if not text:
        return empty
    provinces = _named(text, "province")
    cities = _named(text, "city")
    counties = _named(text, "county")
    province_codes = {d.code[:2] for d, _ in provinces}
    city_codes = {d.code[:4] for d, _ in cities}

    def agrees(code: str) -> bool:
        return (not city_codes or code[:4] in city_codes) and (not province_codes or code[:2] in province_codes)

    kept = [(d, end) for d, end in counties if agrees(d.code)]
    county, county_end = (kept[0] if len({d.code for d, _ in kept}) == 1 else (None, None))
    city = next((d for d, _ in cities if (county is None or d.code[:4] == county.code[:4])), None)
    found = dict(empty)
    if county is not None:
        found["county"] = county.name
        city_name = _name_of("city", county.code[:4] + "0" * 8)
        # Municipalities (北京市) list 市辖区 / 县 as their "city" level; that is no city name.
        found["city"] = city_name if city_name not in _NOT_A_CITY else None
        found["adcode"] = county.code
    elif city is not None and len({d.code for d, _ in cities}) == 1:
        found["city"] = city.name
        found["adcode"] = city.code
    code = found["adcode"] or (next(iter(provinces))[0].code if len({d.code for d, _ in provinces}) == 1 else None)
    if code:
        found["province"] = _name_of("province", code[:2] + "0" * 10)
        found["adcode"] = found["adcode"] or code
    # Township: written right after the county (or the city when the city has no county level).
    after = county_end if county is not None else next((end for d, end in cities if found["city"] == d.name), None)
    if after is not None:
        match = _TOWNSHIP.match(text[after:])
        if match:
            found["township"] = match.group("township")
    return found
