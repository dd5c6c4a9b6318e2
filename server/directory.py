"""Changde's agencies and the demo users (DOMAIN.md §1).

Codes follow :mod:`workflows.jurisdiction`: ``{kind}:{division}`` and, for streets and
industry departments, a third part naming the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.auth import hash_password, new_session_token
from server.extensions import db
from server.models import Agency, User
from workflows.jurisdiction import CITY, DIVISIONS

KIND_LABELS = {
    "fire_detachment": "消防救援支队",
    "fire_brigade": "消防救援大队",
    "government": "人民政府",
    "safety_office": "消安委办",
    "street": "街道/乡镇",
    "industry": "行业部门",
}

INDUSTRY_DEPARTMENTS = (
    ("zhujian", "住建局"), ("jiaoyu", "教育局"), ("minzheng", "民政局"), ("shangwu", "商务局"),
    ("wenlv", "文旅广体局"), ("weijian", "卫健委"), ("yingji", "应急管理局"),
    ("shijian", "市场监管局"), ("gongxin", "工信局"), ("ziran", "自然资源和规划局"),
    ("chengguan", "城管执法局"), ("gongan", "公安局"), ("fagai", "发改委"), ("caizheng", "财政局"),
    ("nongye", "农业农村局"),
)  # fmt: skip

# One or two streets or towns per division (demo data; administrators add the rest).
STREETS = {
    "wuling": (("nanping", "南坪街道"), ("chuanzihe", "穿紫河街道")),
    "dingcheng": (("yuxia", "玉霞街道"), ("wulingzhen", "武陵镇")),
    "anxiang": (("shenliu", "深柳镇"),),
    "hanshou": (("longyang", "龙阳街道"),),
    "lixian": (("liyang", "澧阳街道"),),
    "linli": (("anfu", "安福街道"),),
    "taoyuan": (("zhangjiang", "漳江街道"),),
    "shimen": (("chujiang", "楚江街道"),),
    "jinshi": (("xiangyangjie", "襄阳街街道"),),
    "jingkai": (("deshan", "德山街道"),),
    "gaoxin": (("guanxi", "灌溪镇"),),
    "liuyehu": (("liuyehu", "柳叶湖街道"),),
    "xihu": (("xizhou", "西洲乡"),),
    "xidongting": (("zhufeng", "祝丰镇"),),
}


@dataclass(frozen=True)
class AgencySpec:
    """An agency to create."""

    code: str
    name: str
    kind: str
    division: str
    can_discover: bool = False


def changde_agencies() -> list[AgencySpec]:
    """Every agency of the Changde demo directory."""
    specs = [
        AgencySpec("fire_detachment:city", "常德市消防救援支队", "fire_detachment", CITY, True),
        AgencySpec("government:city", "常德市人民政府", "government", CITY),
        AgencySpec("safety_office:city", "常德市消防安全委员会办公室", "safety_office", CITY),
    ]
    specs += [
        AgencySpec(f"industry:city:{code}", f"常德市{name}", "industry", CITY, True)
        for code, name in INDUSTRY_DEPARTMENTS
    ]
    for division in DIVISIONS:
        d, name = division.code, division.name
        government = (
            f"{name}管理委员会" if division.kind == "management_area" else f"{name}人民政府"
        )
        specs += [
            AgencySpec(f"fire_brigade:{d}", f"{name}消防救援大队", "fire_brigade", d, True),
            AgencySpec(f"government:{d}", government, "government", d),
            AgencySpec(f"safety_office:{d}", f"{name}消防安全委员会办公室", "safety_office", d),
        ]
        specs += [
            AgencySpec(f"street:{d}:{code}", f"{name}{street}", "street", d, True)
            for code, street in STREETS[d]
        ]
    return specs


def demo_users() -> list[tuple[str, str, str, str]]:
    """(username, name, agency code, roles) of the demo users: every role, every kind."""
    users = [
        ("admin", "系统管理员", "fire_detachment:city", "admin"),
        ("city.supervisor", "市消安委办督办员", "safety_office:city", "supervisor"),
        ("city.auditor", "市消安委办督查员", "safety_office:city", "auditor"),
        ("city.office.officer", "市消安委办承办人", "safety_office:city", "officer"),
        ("detachment.officer", "支队承办人", "fire_detachment:city", "officer"),
        ("city.gov.officer", "市政府承办人", "government:city", "officer"),
    ]
    users += [
        (f"{code}.officer", f"市{name}承办人", f"industry:city:{code}", "officer")
        for code, name in INDUSTRY_DEPARTMENTS
    ]
    for division in DIVISIONS:
        d, name = division.code, division.name
        users += [
            (f"{d}.fire", f"{name}消防大队承办人", f"fire_brigade:{d}", "officer"),
            (f"{d}.gov", f"{name}政府承办人", f"government:{d}", "officer"),
            (f"{d}.supervisor", f"{name}消安委办督办员", f"safety_office:{d}", "supervisor"),
            # files the office's reports (月报 附件8, 年度工作报告: server/report_cases.py)
            (f"{d}.office", f"{name}消安委办承办人", f"safety_office:{d}", "officer"),
            (f"{d}.auditor", f"{name}消安委办督查员", f"safety_office:{d}", "auditor"),
        ]
        users += [
            (f"{d}.{code}", f"{street}承办人", f"street:{d}:{code}", "officer")
            for code, street in STREETS[d]
        ]
    return users


def street_of(agency: Agency) -> str | None:
    """The street or town (街道/乡镇) an agency of kind ``street`` is the office of, as the
    registration form names it: its name without the division's (``武陵区南坪街道`` → 南坪街道);
    None for other agencies."""
    if agency.kind != "street":
        return None
    division = next((d for d in DIVISIONS if d.code == agency.division), None)
    name = agency.name
    if division is not None and name.startswith(division.name):
        name = name[len(division.name) :]
    return name or None


def ensure_agencies() -> int:
    """Create missing agencies of the directory; returns how many were added."""
    existing = set(db.session.scalars(select(Agency.code)))
    added = 0
    for spec in changde_agencies():
        if spec.code not in existing:
            db.session.add(
                Agency(
                    code=spec.code,
                    name=spec.name,
                    kind=spec.kind,
                    division=spec.division,
                    can_discover=spec.can_discover,
                )
            )
            added += 1
    db.session.commit()
    return added


def create_user(
    username: str,
    name: str,
    agency_code: str,
    roles: str,
    password: str,
    password_hash: str | None = None,
) -> User:
    """Create a user (committed by the caller). Raises ValueError on unknown agency or role.

    :param password_hash: a precomputed hash of ``password`` (seeding many users at once).
    """
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise ValueError(f"unknown agency {agency_code}")
    from server.models import ROLES

    bad = [r for r in roles.split(",") if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"unknown role(s) {bad or roles!r}; roles are {', '.join(ROLES)}")
    user = User(
        username=username,
        name=name,
        agency_id=agency.id,
        roles=roles,
        password_hash=password_hash or hash_password(password),
        session_token=new_session_token(),
        active=True,
    )
    db.session.add(user)
    return user


def ensure_demo_users(password: str) -> int:
    """Create the missing demo users with ``password``; returns how many were added."""
    existing = set(db.session.scalars(select(User.username)))
    # Demo users share one password: hash it once (scrypt is deliberately slow).
    shared_hash = hash_password(password)
    added = 0
    for username, name, agency_code, roles in demo_users():
        if username not in existing:
            create_user(username, name, agency_code, roles, password, shared_hash)
            added += 1
    db.session.commit()
    return added
