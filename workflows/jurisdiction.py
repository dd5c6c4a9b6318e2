"""Changde's county-level divisions (jurisdictions) and the agency-code convention.

Agency codes are ``{kind}:{division}`` (``fire_brigade:dingcheng``) or ``{kind}:city`` for
city-level agencies. The web app's agency table uses the same codes, so lane resolution can be
tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY = "city"


@dataclass(frozen=True)
class Division:
    """A county-level division of Changde: a case's jurisdiction."""

    code: str
    name: str
    kind: str  # district, county, county_city, management_area


DIVISIONS: tuple[Division, ...] = (
    Division("wuling", "武陵区", "district"),
    Division("dingcheng", "鼎城区", "district"),
    Division("anxiang", "安乡县", "county"),
    Division("hanshou", "汉寿县", "county"),
    Division("lixian", "澧县", "county"),
    Division("linli", "临澧县", "county"),
    Division("taoyuan", "桃源县", "county"),
    Division("shimen", "石门县", "county"),
    Division("jinshi", "津市市", "county_city"),
    Division("jingkai", "常德经济技术开发区", "management_area"),
    Division("gaoxin", "常德高新技术产业开发区", "management_area"),
    Division("liuyehu", "柳叶湖旅游度假区", "management_area"),
    Division("xihu", "西湖管理区", "management_area"),
    Division("xidongting", "西洞庭管理区", "management_area"),
)

DIVISIONS_BY_CODE: dict[str, Division] = {d.code: d for d in DIVISIONS}


def division_name(code: str) -> str:
    """Return the Chinese name of a division code, or the code itself if unknown."""
    division = DIVISIONS_BY_CODE.get(code)
    return division.name if division else code


def agency_code(kind: str, division: str = CITY) -> str:
    """Build an agency code from its kind and division (``city`` for city level)."""
    return f"{kind}:{division}"
