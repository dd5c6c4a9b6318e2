"""Demo data: Changde's agencies, the demo users and about thirty cases at every stage.

``seed(password)`` is what ``flask --app server seed-demo`` runs (the CLI refuses production and
skips a non-empty database with ``--if-empty``). Cases are registered and advanced only through
:mod:`server.operations`, by the officer of the agency each task belongs to, exactly as officers
would do it in the web app; nothing here writes workflow state, tasks or deadlines directly.

Each step runs at its own back-dated moment: the day the table names (days before today, moved
back to a working day) at a working hour, with the process clock moved there
(:mod:`server.demo_timeline`), all cases' steps in the order of time, and the timer sweep run
whenever a deadline comes due in between. So a step done in time meets its deadline, a late one
was missed and escalated the day it fell due, and histories, issued documents, on-time rates and
the dashboard's monthly trend read like months of a city's work. The data are fixed tables:
seeding is deterministic (relative to today).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from math import ceil
from typing import Any

from sqlalchemy import select

from server.demo_fires import plan_fires
from server.demo_messages import plan_rounds, read_acted_messages
from server.demo_reports import plan_reports
from server.demo_timeline import Timeline
from server.directory import create_user, ensure_agencies, ensure_demo_users
from server.extensions import db
from server.models import Case, Task, User
from server.operations import FormInvalid, claim_task, complete_task, start_case, today_shanghai
from workflows.jurisdiction import DIVISIONS_BY_CODE, division_name

PROCESS = "major_hazard"

#: One user per role and agency kind, for the README and the CLI output.
LOGINS: list[tuple[str, str]] = [
    ("wuling.nanping", "街道承办人（武陵区南坪街道）：登记隐患、函告、督促整改"),
    ("minzheng.officer", "行业部门承办人（市民政局）：登记养老机构隐患"),
    ("dingcheng.fire", "消防救援大队承办人（鼎城区）：立案、讨论、送达、复查，收件箱有逾期任务"),
    ("wuling.fire2", "消防救援大队第二承办人（武陵区）：同单位同事之间转办任务"),
    ("dingcheng.gov", "人民政府承办人（鼎城区）：政府决定、挂牌督办、销案"),
    ("dingcheng.supervisor", "县级督办人（鼎城区消安委办）：本区期限与逾期"),
    ("city.supervisor", "市级督办人（市消安委办）：全市期限、逾期与升级"),
    ("city.auditor", "审计/督查（市消安委办）：查阅、打印案卷"),
    ("detachment.officer", "市消防救援支队承办人：市级火灾调查、延期审批、复核"),
    ("city.office.officer", "市消安委办承办人：火灾分级预警发布、上报省级、通报评估"),
    ("fagai.officer", "市发展改革委承办人：信用联合惩戒回复"),
    ("admin", "管理员（市消防救援支队）：机构、用户、工作日历"),
]

# Short district names used in document numbers (文号).
ABBR = {
    "wuling": "武", "dingcheng": "鼎", "anxiang": "安", "hanshou": "汉", "lixian": "澧",
    "linli": "临", "taoyuan": "桃", "shimen": "石", "jinshi": "津", "jingkai": "经开",
    "gaoxin": "高新", "liuyehu": "柳", "xihu": "西湖", "xidongting": "西洞",
}  # fmt: skip

SURNAMES = "张王李刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳强洋静磊敏涛丽军勇艳杰娟鹏辉华明霞平刚桂英建国志红文斌"
EXPERT_UNITS = (
    ("高级工程师", "湖南省消防救援总队专家库"),
    ("教授", "中南大学土木工程学院"),
    ("高级工程师", "常德市建筑设计院有限公司"),
    ("副教授", "长沙理工大学能源与动力工程学院"),
    ("高级工程师", "湖南省建筑科学研究院有限责任公司"),
    ("注册消防工程师", "常德市消防协会"),
    ("高级工程师", "国网常德供电公司"),
    ("正高级工程师", "湖南省安全生产科学研究院"),
    ("高级工程师", "常德市应急管理局专家库"),
)
DELIBERATION_POSITIONS = ("大队长", "政治教导员", "副大队长", "防火监督科科长", "法制员")
LEADER_TITLES = {
    "district": "副区长",
    "county": "副县长",
    "county_city": "副市长",
    "management_area": "管委会副主任",
}


def _person(n: int) -> str:
    """A deterministic Chinese name (surname + one or two given characters)."""
    surname = SURNAMES[n % len(SURNAMES)]
    given = GIVEN[(n * 7) % len(GIVEN)]
    if n % 3:
        given += GIVEN[(n * 11 + 5) % len(GIVEN)]
    return surname + given


@dataclass(frozen=True)
class Unit:
    """The place where the hazard was found and what is wrong there."""

    name: str
    address: str
    district: str
    street: str
    industry: str
    categories: tuple[str, ...]
    elements: tuple[str, ...]
    hazard: str  # 隐患情况 (description)
    fix: str  # 整改要求
    contact: str  # the unit's contact person
    can_correct: bool = False


#: The responsible industry department (行业主管部门) of a demo unit's industry.
DEMO_DEPARTMENTS = {
    "entertainment": "wenlv", "hospitality": "shangwu", "retail": "shangwu",
    "education": "jiaoyu", "healthcare": "weijian", "elderly_care": "minzheng",
    "manufacturing": "gongxin", "warehousing": "shangwu", "hazardous_chemicals": "yingji",
    "construction": "zhujian", "residential": "zhujian",
}  # fmt: skip
#: Campaign areas of demo units named by what their name says (others: by site category).
DEMO_AREAS = (
    ("加工作坊", "old_places"), ("出租公寓", "old_places"), ("加油站", "petrochemical"),
    ("化工", "petrochemical"), ("油漆", "petrochemical"), ("地下商业街", "commercial_complex"),
    ("购物广场", "commercial_complex"), ("民宿", "other"),
)  # fmt: skip


def demo_classification(unit: Unit) -> dict[str, str]:
    """The campaign area and responsible department the demo registers a unit with."""
    area = next((code for word, code in DEMO_AREAS if word in unit.name), None)
    if area is None:
        area = "crowded_places" if "crowded" in unit.categories else "other"
    department = DEMO_DEPARTMENTS.get(unit.industry)
    found = {"campaign_area": area}
    if department:
        found["responsible_department"] = f"industry:city:{department}"
    return found


@dataclass(frozen=True)
class Step:
    """One completed task: ``ago`` working days before today, with form fields to override.

    Date overrides are given as integers (working days before today; negative: after today).
    """

    task: str
    ago: int
    fields: Mapping[str, Any] = field(default_factory=dict)


def s(task: str, ago: int, **fields: Any) -> Step:
    """Shorthand for a :class:`Step`."""
    return Step(task, ago, fields)


@dataclass(frozen=True)
class DemoCase:
    """A case to create: registered by ``registrar`` ``found`` working days ago, then ``steps``."""

    registrar: str
    found: int
    unit: Unit
    steps: tuple[Step, ...] = ()
    stage: str = ""  # what the case shows, for the reader of this table
    claim: bool = False  # the officer holding the next task claims it
    # A fixed day the hazard was found, for hazards found while GB 35181-2017 was in force
    # (up to 2025-10-31): the street's own "not major" verdict then stands. Cases without it
    # are found ``found`` days ago, judged by the 2017 elements as an aid only (GB 35181-2025
    # is in force but not installed) and referred to the fire rescue agency.
    found_on: str | None = None


DATE_FIELDS = {
    "rectify_by", "new_rectify_by", "correct_by", "new_correct_by", "inspected_on", "sealed_on",
    "application_received_on", "lifted_on",
}  # fmt: skip


# --- the cases --------------------------------------------------------------------------------
# Each step's ``ago`` counts working days before today (server.demo_timeline); the step runs on
# that day and its form's dates follow it, so found_on ≤ referred_on ≤ filed_on ≤ … always holds
# (steps are listed in the order of time: checked). Comments name the ready task the case ends at.


def _listed(
    refer: int,
    file: int,
    deliberate: int,
    notice: int,
    report: int,
    decide: int,
    plan: int,
    rectify_by: int,
    supervisor: str,
    *,
    review: int | None = None,
    seal: int | None = None,
) -> tuple[Step, ...]:
    """Steps from referral to the rectification plan (government agrees: listed supervision)."""
    steps = [
        s("refer_to_fire_rescue", refer),
        s(
            "file_case",
            file,
            technically_complex=review is not None,
            sealing="none" if seal is None else "collective",
        ),
    ]
    # The sealing is decided from the inspection, beside the determination (令120 §23).
    if seal is not None:
        steps.append(s("temporary_sealing", seal))
    if review is not None:
        steps.append(s("expert_review", review))
    steps.append(s("collective_deliberation", deliberate))
    steps.append(s("serve_rectification_notice", notice))
    steps += [
        s("report_to_government", report),
        s("government_decision", decide, rectify_by=rectify_by),
        s("set_rectification_plan", plan, rectify_by=rectify_by, supervising_agency=supervisor),
    ]
    return tuple(steps)


CASES: tuple[DemoCase, ...] = (
    # --- 待函告消防救援机构 (refer_to_fire_rescue) ---------------------------------------------
    DemoCase(
        "dingcheng.yuxia", 25,  # the dashboard's most overdue deadline (tests/e2e journey 2)
        Unit("鼎城区金色年华KTV", "常德市鼎城区玉霞街道善卷路218号二至三层", "dingcheng",
             "玉霞街道", "entertainment", ("crowded",), ("6.5", "7.3.6"),
             "二、三层共32间包厢仅设一部疏散楼梯，另一安全出口被改作仓库并上锁；"
             "走道应急照明灯多处损坏。", "增设第二安全出口并拆除仓库隔墙，修复应急照明。",
             "邓经理"),
        stage="待函告（逾期）",
    ),
    DemoCase(
        "wuling.nanping", 1,
        Unit("武陵区华天百货商场", "常德市武陵区人民路1166号", "wuling", "南坪街道",
             "retail", ("crowded",), ("6.6",),
             "地上四层营业面积约1.2万平方米，三、四层自动喷水灭火系统未安装，"
             "火灾自动报警系统长期故障停用。", "按规范补设自动喷水灭火系统，修复火灾自动报警系统。",
             "周总"),
        stage="待函告",
    ),
    DemoCase(
        "taoyuan.zhangjiang", 2,
        Unit("桃源县兴隆服装加工作坊", "常德市桃源县漳江街道沅江路56号", "taoyuan", "漳江街道",
             "manufacturing", ("crowded",), ("7.1.3", "7.3.3", "7.3.6", "7.9.4"),
             "一层缝纫车间、二层成品仓库、三层员工宿舍，属“三合一”场所；宿舍与生产区未防火分隔，"
             "仅一部楼梯，电线直接敷设在布料堆垛上。",
             "住宿与生产、储存分离，拆除宿舍；整改电气线路。", "覃老板"),
        stage="待函告",
    ),
    # --- 受理立案 (file_case) ---------------------------------------------------------------
    DemoCase(
        "dingcheng.wulingzhen", 4,
        Unit("鼎城区永兴加油站", "常德市鼎城区武陵镇桃花源路西段88号", "dingcheng", "武陵镇",
             "hazardous_chemicals", ("flammable",), ("6.3",),
             "站内汽油、柴油储罐总容积达210立方米，超过城市建成区加油站一级站的储量限值。",
             "核减油罐容积至规范限值以内。", "杨站长"),
        (s("refer_to_fire_rescue", 2),),
        stage="待立案",
    ),
    DemoCase(
        "wuling.chuanzihe", 9,
        Unit("武陵区穿紫河商务宾馆", "常德市武陵区穿紫河街道紫菱路33号", "wuling", "穿紫河街道",
             "hospitality", ("crowded",), ("6.6",),
             "五层宾馆客房78间，未按规范设置自动喷水灭火系统和火灾自动报警系统。",
             "增设自动喷水灭火系统和火灾自动报警系统。", "曾经理"),
        (s("refer_to_fire_rescue", 5),),
        stage="待立案",
    ),
    DemoCase(
        "jiaoyu.officer", 3,
        Unit("澧县澧阳中学学生宿舍楼", "常德市澧县澧阳街道澧州大道301号", "lixian", "澧阳街道",
             "education", ("crowded",), ("6.10",),
             "学生宿舍楼为彩钢夹芯板搭建，夹芯材料为聚苯乙烯泡沫，燃烧性能低于A级，住宿学生412人。",
             "停止使用彩钢板宿舍，学生另行安置。", "王副校长"),
        (s("refer_to_fire_rescue", 1),),
        stage="待立案",
    ),
    DemoCase(
        "gaoxin.guanxi", 16,
        Unit("高新区顺发塑料制品厂", "常德市高新技术产业开发区灌溪镇工业大道21号", "gaoxin",
             "灌溪镇", "manufacturing", ("crowded",), ("7.1.3", "7.9.4"),
             "注塑车间二层设员工宿舍，住宿工人17名，与车间未作防火分隔；车间电线敷设在塑料原料堆垛上。",
             "拆除车间内员工宿舍，规范电气线路敷设。", "方厂长"),
        (s("refer_to_fire_rescue", 7),),  # referred late
        stage="待立案（函告逾期）",
    ),
    # --- 专家论证 (expert_review) -----------------------------------------------------------
    DemoCase(
        "yingji.officer", 14,
        Unit("鼎城区顺达化工产品仓库", "常德市鼎城区玉霞街道临沅路12号", "dingcheng", "玉霞街道",
             "warehousing", ("flammable",), ("6.2",),
             "仓库储存甲类易燃液体约40吨，与相邻居民楼防火间距仅9米，不足规范要求的75%。",
             "搬离易燃液体或采取防火分隔措施，满足防火间距。", "何经理"),
        (s("refer_to_fire_rescue", 12), s("file_case", 10, technically_complex=True)),
        stage="专家论证",
    ),
    DemoCase(
        "wuling.nanping", 8,
        Unit("武陵区人民路地下商业街", "常德市武陵区人民路与朗州路交叉口地下一层", "wuling",
             "南坪街道", "retail", ("crowded",), ("7.3.1", "7.3.6", "7.5", "7.4.6"),
             "地下商业街约180个商铺，避难走道被占用堆货，排烟风机不能启动，"
             "疏散指示标志大面积损坏，自动喷水灭火系统末端压力不足。",
             "清理避难走道，修复排烟、喷淋系统和疏散指示标志。", "罗主任"),
        (s("refer_to_fire_rescue", 6), s("file_case", 4, technically_complex=True)),
        stage="专家论证",
    ),
    # --- 集体讨论 (collective_deliberation) ------------------------------------------------
    DemoCase(
        "minzheng.officer", 10,
        Unit("鼎城区夕阳红养老院", "常德市鼎城区武陵镇建设路76号", "dingcheng", "武陵镇",
             "elderly_care", ("crowded",), ("6.9",),
             "老年人公共活动室设在五层，建筑耐火等级为三级，不符合老年人照料设施的楼层要求；"
             "在院老人63人，其中失能老人21人。", "将老年人活动用房调整至首层或二层。", "徐院长"),
        (s("refer_to_fire_rescue", 8), s("file_case", 6)),
        stage="集体讨论",
    ),
    DemoCase(
        "hanshou.longyang", 7,
        Unit("汉寿县极速网咖", "常德市汉寿县龙阳街道银珠路19号二层", "hanshou", "龙阳街道",
             "entertainment", ("crowded",), ("6.6",),
             "网吧营业面积约900平方米、电脑260台，未设置自动喷水灭火系统。",
             "增设自动喷水灭火系统。", "陈老板"),
        (s("refer_to_fire_rescue", 5), s("file_case", 3)),
        stage="集体讨论",
    ),
    # --- 送达整改通知书 (serve_rectification_notice) ----------------------------------------
    DemoCase(
        "dingcheng.yuxia", 25,
        Unit("鼎城区星空量贩KTV", "常德市鼎城区玉霞街道郎州北路9号", "dingcheng", "玉霞街道",
             "entertainment", ("crowded",), ("6.5", "6.6"),
             "营业面积2100平方米，仅设两个安全出口，疏散总宽度不足规范要求的80%；"
             "未设置自动喷水灭火系统。", "增设安全出口，加设自动喷水灭火系统。", "刘经理"),
        (s("refer_to_fire_rescue", 22), s("file_case", 15), s("collective_deliberation", 12)),
        stage="送达整改通知书（逾期）",
    ),
    DemoCase(
        "weijian.officer", 6,
        Unit("武陵区康宁医院住院部", "常德市武陵区穿紫河街道洞庭大道西段420号", "wuling",
             "穿紫河街道", "healthcare", ("crowded",), ("7.3.3", "7.3.6", "7.3.7", "7.5"),
             "住院部七层，两部疏散楼梯之一被锁闭，楼梯间防火门损坏过半，"
             "排烟系统不能正常运行，应急照明多处失效。",
             "打开锁闭的安全出口，更换防火门，修复排烟系统和应急照明。", "黄院长"),
        (s("refer_to_fire_rescue", 4), s("file_case", 3), s("collective_deliberation", 1)),
        stage="送达整改通知书",
    ),
    DemoCase(
        "jiaoyu.officer", 12,
        Unit("鼎城区小太阳幼儿园", "常德市鼎城区玉霞街道金霞路45号", "dingcheng", "玉霞街道",
             "education", ("crowded",), ("6.9",),
             "幼儿活动室和寝室设在四层，不符合托儿所、幼儿园儿童用房的设置楼层要求，在园幼儿186名。",
             "将四层幼儿用房调整至三层及以下。", "吴园长"),
        (s("refer_to_fire_rescue", 10), s("file_case", 8), s("collective_deliberation", 2)),
        stage="送达整改通知书",
    ),
    # --- 临时查封 (temporary_sealing) -------------------------------------------------------
    DemoCase(
        "dingcheng.wulingzhen", 21,
        Unit("鼎城区红星鞋业加工作坊", "常德市鼎城区武陵镇工业路102号", "dingcheng", "武陵镇",
             "manufacturing", ("crowded",), ("7.1.3", "7.3.3", "7.3.9", "7.9.4", "7.2.2"),
             "一层制鞋、二层仓储、三层住宿共23名工人，属“三合一”场所；窗户全部加装铁栅栏，"
             "唯一楼梯堆放胶水桶，电线私拉乱接。",
             "立即停止住宿，拆除铁栅栏，清理楼梯，规范电气线路。", "谢老板"),
        (
            s("refer_to_fire_rescue", 18),
            s("file_case", 14, sealing="collective"),
            s("collective_deliberation", 11),
            s("serve_rectification_notice", 9),
        ),
        stage="临时查封决定（自检查之日起3个工作日，逾期）",
    ),
    DemoCase(
        "jinshi.xiangyangjie", 5,
        Unit("津市市襄阳街农贸市场", "常德市津市市襄阳街街道新建路20号", "jinshi", "襄阳街街道",
             "retail", ("crowded",), ("6.8",),
             "市场内三家商铺违规储存、销售烟花爆竹约1.5吨，周边为人员密集的农贸摊位。",
             "立即清除烟花爆竹，停止在市场内储存销售。", "孙主任"),
        (
            s("refer_to_fire_rescue", 4),
            s("file_case", 3, sealing="collective"),
            s("temporary_sealing", 2),
            s("collective_deliberation", 1),
            s("serve_rectification_notice", 1),
        ),
        stage="临时查封期间（查封期限1个月）",
    ),
    DemoCase(
        "wuling.nanping", 0,
        Unit("武陵区金色年华歌舞厅", "常德市武陵区南坪街道朗州路66号", "wuling", "南坪街道",
             "entertainment", ("crowded",), ("6.5", "6.8"),
             "营业期间唯一安全出口被锁闭，吧台下存放酒精炉燃料约50升，场内顾客约120人。",
             "立即开启安全出口，清除易燃液体。", "严经理"),
        (
            s("refer_to_fire_rescue", 0),
            s("file_case", 0, sealing="emergency", sealed_on=0, sealed_time="00:05"),
        ),
        stage="当场查封后24小时内作出决定",
    ),
    # --- 报告人民政府 (report_to_government) ------------------------------------------------
    DemoCase(
        "dingcheng.yuxia", 26,
        Unit("鼎城区华联仓储物流中心", "常德市鼎城区玉霞街道物流园区3号库", "dingcheng", "玉霞街道",
             "warehousing", ("flammable",), ("6.4",),
             "地下一层违规储存乙类物品（油漆、稀释剂）约30吨。", "清除地下室内的乙类物品。",
             "马经理"),
        (
            s("refer_to_fire_rescue", 22),
            s("file_case", 18),
            s("collective_deliberation", 15),
            s("serve_rectification_notice", 13),
        ),
        stage="报告人民政府（逾期）",
        claim=True,
    ),
    DemoCase(
        "wuling.chuanzihe", 8,
        Unit("武陵区锦华宾馆", "常德市武陵区穿紫河街道柳叶大道188号", "wuling", "穿紫河街道",
             "hospitality", ("crowded",), ("6.6",),
             "宾馆六层、客房96间，火灾自动报警系统主机损坏，自动喷水灭火系统未安装。",
             "修复火灾自动报警系统，增设自动喷水灭火系统。", "朱经理"),
        (
            s("refer_to_fire_rescue", 6),
            s("file_case", 4),
            s("collective_deliberation", 3),
            s("serve_rectification_notice", 1),
        ),
        stage="报告人民政府",
    ),
    DemoCase(
        "linli.anfu", 7,
        Unit("临澧县新世纪商场", "常德市临澧县安福街道望城路66号", "linli", "安福街道",
             "retail", ("crowded",), ("6.5",),
             "商场三层共8000平方米仅设两部疏散楼梯，疏散总宽度不足规范要求的80%。",
             "增设疏散楼梯，拓宽安全出口。", "宋总"),
        (
            s("refer_to_fire_rescue", 5),
            s("file_case", 4),
            s("collective_deliberation", 3),
            s("serve_rectification_notice", 2),
        ),
        stage="报告人民政府",
    ),
    # --- 政府决定 (government_decision) -----------------------------------------------------
    DemoCase(
        "jiaoyu.officer", 35,
        Unit("鼎城区职业技术学校学生宿舍", "常德市鼎城区武陵镇育才路8号", "dingcheng", "武陵镇",
             "education", ("crowded",), ("6.10",),
             "三栋学生宿舍为聚氨酯夹芯彩钢板房，芯材燃烧性能低于A级，住宿学生约600人。",
             "拆除彩钢板宿舍，新建宿舍楼前学生分散安置。", "郭校长"),
        (
            s("refer_to_fire_rescue", 31),
            s("file_case", 29),
            s("collective_deliberation", 26),
            s("serve_rectification_notice", 24),
            s("report_to_government", 16),
        ),
        stage="政府决定（逾期）",
    ),
    DemoCase(
        "wuling.nanping", 12,
        Unit("武陵区福寿康养中心", "常德市武陵区南坪街道丹阳路58号", "wuling", "南坪街道",
             "elderly_care", ("crowded",), ("6.9",),
             "失能老人居室设在六层，不符合老年人照料设施楼层设置要求，在住老人88人。",
             "将失能老人居室调整至低楼层。", "韩院长"),
        (
            s("refer_to_fire_rescue", 10),
            s("file_case", 9),
            s("collective_deliberation", 7),
            s("serve_rectification_notice", 6),
            s("report_to_government", 2),
        ),
        stage="政府决定",
    ),
    DemoCase(
        "shimen.chujiang", 30,
        Unit("石门县仁济医院", "常德市石门县楚江街道宝峰路27号", "shimen", "楚江街道",
             "healthcare", ("crowded",), ("7.3.3", "7.3.6", "7.5", "7.9.3"),
             "门诊楼疏散门向内开启并上锁，排烟设施不能运行，应急照明损坏过半，"
             "食堂燃气管道无紧急切断阀。",
             "更换疏散门，修复排烟设施和应急照明，加装燃气紧急切断阀。", "唐院长"),
        (
            s("refer_to_fire_rescue", 27),
            s("file_case", 25),
            s("collective_deliberation", 22),
            s("serve_rectification_notice", 20),
            s("report_to_government", 19),
        ),
        stage="政府决定（逾期）",
    ),
    # --- 报送整改进展：挂牌督办 (report_rectification_progress) -----------------------------
    DemoCase(
        "wuling.nanping", 50,
        Unit("武陵区星光KTV", "常德市武陵区人民路1号", "wuling", "南坪街道", "entertainment",
             ("crowded",), ("6.5",),
             "二层包厢区安全出口数量不足，疏散通道堆放杂物。",
             "增设安全出口，清理疏散通道。", "王经理"),
        _listed(47, 45, 42, 40, 38, 33, 31, -30, "street:wuling:nanping"),
        stage="整改进展（挂牌督办）",
    ),
    DemoCase(
        "dingcheng.yuxia", 80,
        Unit("鼎城区惠民购物广场", "常德市鼎城区玉霞街道阳明路150号", "dingcheng", "玉霞街道",
             "retail", ("crowded",), ("6.6", "7.3.6"),
             "商场二至四层自动喷水灭火系统未安装，疏散指示标志损坏过半。",
             "补设自动喷水灭火系统，更换疏散指示标志。", "冯总"),
        (
            *_listed(77, 75, 72, 70, 68, 62, 60, -15, "industry:city:shangwu"),
            s("report_rectification_progress", 40, percent=40, completed=False,
              progress="已完成喷淋系统设计和招标，管网施工进行中；疏散指示标志已全部更换。"),
        ),
        stage="整改进展（挂牌督办，进展逾期）",
    ),
    DemoCase(
        "anxiang.shenliu", 70,
        Unit("安乡县宏达宾馆", "常德市安乡县深柳镇书院路35号", "anxiang", "深柳镇",
             "hospitality", ("crowded",), ("6.6",),
             "宾馆五层客房60间，未设置火灾自动报警系统。", "增设火灾自动报警系统。", "董老板"),
        (
            *_listed(66, 64, 61, 59, 57, 50, 45, 3, "street:anxiang:shenliu"),
            s("report_rectification_progress", 20, percent=60, completed=False,
              progress="报警系统线路已敷设，主机尚未安装调试。"),
        ),
        stage="整改进展（整改期限届满，待督办措施）",
    ),
    # --- 依职权处理 and progress after the government disagreed -----------------------------
    DemoCase(
        "dingcheng.wulingzhen", 60,
        Unit("鼎城区鑫源木业加工厂", "常德市鼎城区武陵镇工业园7号", "dingcheng", "武陵镇",
             "manufacturing", ("other",), ("7.1.1", "7.1.3", "7.2.2", "7.4.3", "7.7.1", "7.9.4"),
             "厂区消防车道被木材堆垛占用，车间内设员工宿舍，防火卷帘损坏，室内消火栓无水，"
             "未设火灾报警系统，电线敷设在木料上。",
             "清理消防车道，拆除车间内宿舍，修复消防设施，整改电气线路。", "彭厂长"),
        (
            s("refer_to_fire_rescue", 57),
            s("file_case", 55),
            s("collective_deliberation", 52),
            s("serve_rectification_notice", 50),
            s("report_to_government", 48),
            s("government_decision", 42, decision="disagree",
              comments="该厂已列入园区搬迁计划，不予挂牌督办，请消防救援大队依法处理。"),
            s("enforce_by_fire_rescue", 40, rectify_by=-20,
              supervising_agency="street:dingcheng:wulingzhen"),
        ),
        stage="整改进展（政府不同意，依职权处理后）",
    ),
    DemoCase(
        "wuling.chuanzihe", 16,
        Unit("武陵区华荣出租公寓", "常德市武陵区穿紫河街道滨湖路77号", "wuling", "穿紫河街道",
             "residential", ("crowded",), ("7.3.3", "7.3.9", "7.3.6", "7.9.4"),
             "群租公寓住户约120人，楼梯间停放电动自行车并飞线充电，"
             "窗户和疏散走道加装防盗网，安全出口上锁，疏散指示标志缺失。",
             "清理楼梯间电动自行车，拆除防盗网，打开安全出口，设置集中充电区。", "许房东"),
        (
            s("refer_to_fire_rescue", 14),
            s("file_case", 13),
            s("collective_deliberation", 11),
            s("serve_rectification_notice", 10),
            s("report_to_government", 9),
            s("government_decision", 3, decision="disagree",
              comments="属单体建筑隐患，不符合挂牌督办条件，由消防救援大队依法查处。"),
        ),
        stage="依职权处理",
    ),
    DemoCase(
        "minzheng.officer", 55,
        Unit("津市市颐和养老公寓", "常德市津市市襄阳街街道人民路210号", "jinshi", "襄阳街街道",
             "elderly_care", ("crowded",), ("6.9",),
             "老年人居室设在五层，不符合老年人照料设施的楼层要求。",
             "将老年人居室调整至三层及以下。", "沈院长"),
        (
            s("refer_to_fire_rescue", 52),
            s("file_case", 50),
            s("collective_deliberation", 47),
            s("serve_rectification_notice", 45),
            s("report_to_government", 43),
            s("government_decision", 38, decision="disagree",
              comments="该公寓已申请转型，不予挂牌，由消防救援大队依法责令改正。"),
            s("enforce_by_fire_rescue", 36, rectify_by=-25,
              supervising_agency="industry:city:minzheng"),
            s("report_rectification_progress", 6, percent=70, completed=False,
              progress="五层老人已搬至二、三层，原居室正在改造为办公用房。"),
        ),
        stage="整改进展（政府不同意，依职权处理后）",
    ),
    # --- 复查 (reinspection) --------------------------------------------------------------
    DemoCase(
        "dingcheng.yuxia", 90,
        Unit("鼎城区君泰大酒店", "常德市鼎城区玉霞街道桥南路66号", "dingcheng", "玉霞街道",
             "hospitality", ("crowded",), ("6.6",),
             "酒店八层，客房楼层自动喷水灭火系统未安装。", "补设自动喷水灭火系统。", "潘经理"),
        (
            *_listed(87, 85, 82, 80, 78, 72, 62, -5, "street:dingcheng:yuxia"),
            s("report_rectification_progress", 25, percent=50, completed=False,
              progress="三至八层喷淋管网已安装，水泵房改造中。"),
            s("report_rectification_progress", 12, percent=100, completed=True,
              progress="喷淋系统已安装调试完毕，经检测合格，申请复查。"),
        ),
        stage="复查（逾期）",
    ),
    DemoCase(
        "wuling.nanping", 60,
        Unit("武陵区金色童年幼儿园", "常德市武陵区南坪街道建设东路12号", "wuling", "南坪街道",
             "education", ("crowded",), ("6.9",),
             "幼儿寝室设在四层，不符合幼儿园儿童用房的设置楼层要求。",
             "将幼儿寝室调整至三层及以下。", "林园长"),
        (
            *_listed(57, 55, 52, 50, 48, 43, 41, -10, "industry:city:jiaoyu"),
            s("report_rectification_progress", 1, percent=100, completed=True,
              progress="四层幼儿寝室已全部迁至二层，四层改作办公用房，申请复查。"),
        ),
        stage="复查",
    ),
    DemoCase(
        "jingkai.deshan", 45,
        Unit("常德经开区恒通物流仓库", "常德市经济技术开发区德山街道青山路9号", "jingkai",
             "德山街道", "warehousing", ("other",),
             ("7.1.1", "7.2.1", "7.4.1", "7.4.2", "7.4.4", "7.7.1"),
             "仓库防火分区面积超过规范150%，消防车道被货车占用，消防水池无水，"
             "室外消火栓损坏，未设自动喷水灭火和火灾报警系统。",
             "划分防火分区，清理消防车道，修复消防给水，增设喷淋和报警系统。", "江经理"),
        (
            *_listed(42, 40, 37, 35, 33, 28, 26, -20, "street:jingkai:deshan"),
            s("report_rectification_progress", 2, percent=100, completed=True,
              progress="消防水池、室外消火栓已修复，防火分隔墙已砌筑，喷淋和报警系统已调试。"),
        ),
        stage="复查",
    ),
    # --- 提请销案 / 销案批复 (request_closure, close_case) ----------------------------------
    DemoCase(
        "wuling.nanping", 80,
        Unit("武陵区欢乐谷网吧", "常德市武陵区南坪街道洞庭大道318号二层", "wuling", "南坪街道",
             "entertainment", ("crowded",), ("6.5",),
             "网吧二层仅设一个安全出口，疏散走道被改作吸烟区并堆放桌椅。",
             "增设第二安全出口，清理疏散走道。", "许经理"),
        (
            *_listed(77, 75, 72, 70, 68, 63, 61, -5, "street:wuling:nanping"),
            s("report_rectification_progress", 4, percent=100, completed=True,
              progress="第二安全出口已开通，疏散走道已清理，申请复查。"),
            s("reinspection", 2, findings="复查合格：两个安全出口畅通，疏散走道无堆放。"),
        ),
        stage="提请销案",
    ),
    DemoCase(
        "wuling.nanping", 85,
        Unit("武陵区鑫源宾馆", "常德市武陵区南坪街道紫缘路66号", "wuling", "南坪街道",
             "hospitality", ("crowded",), ("6.9",),
             "宾馆四至六层客房未设自动喷水灭火系统，火灾自动报警系统停用。",
             "增设自动喷水灭火系统，修复火灾自动报警系统。", "邹经理"),
        (
            *_listed(82, 80, 77, 75, 73, 68, 66, -8, "street:wuling:nanping"),
            s("report_rectification_progress", 5, percent=100, completed=True,
              progress="喷淋系统已安装调试，报警系统已恢复运行，申请复查。"),
            s("reinspection", 3, findings="复查合格：喷淋、报警系统运行正常。"),
            s("request_closure", 2, findings="复查合格：喷淋、报警系统运行正常。"),
        ),
        stage="销案批复",
    ),
    # --- 已销案 (closed) -------------------------------------------------------------------
    DemoCase(
        "wuling.nanping", 130,
        Unit("武陵区金嗓子KTV", "常德市武陵区南坪街道朗州路255号", "wuling", "南坪街道",
             "entertainment", ("crowded",), ("6.5", "7.3.6"),
             "三层KTV包厢46间，安全出口仅一个，疏散指示标志大量损坏。",
             "增设安全出口，更换疏散指示标志。", "宋经理"),
        (
            *_listed(127, 125, 122, 120, 118, 112, 110, 60, "street:wuling:nanping"),
            s("rectification_overdue_measures", 59, measure="interview",
              notes="区政府分管副区长约谈该KTV法定代表人，责令十五日内完成安全出口施工。"),
            s("report_rectification_progress", 50, percent=100, completed=True,
              progress="第二安全出口已开通，疏散指示标志已全部更换，申请复查。"),
            s("reinspection", 48, result="fail", new_rectify_by=18,
              findings="新增安全出口的防火门闭门器缺失，三层应急照明仍有5处不亮。"),
            s("report_rectification_progress", 20, percent=100, completed=True,
              progress="已加装闭门器，更换全部应急照明灯具，申请复查。"),
            s("reinspection", 18, findings="复查合格：安全出口、防火门和应急照明均符合要求。"),
            s("request_closure", 17, findings="复查合格：安全出口、防火门和应急照明均符合要求。"),
            s("close_case", 15),
        ),
        stage="已销案（复查不合格一次，约谈一次）",
    ),
    DemoCase(
        "dingcheng.wulingzhen", 115,
        Unit("鼎城区宏发油漆经营部", "常德市鼎城区武陵镇商贸城B区12号", "dingcheng", "武陵镇",
             "hazardous_chemicals", ("crowded", "flammable"), ("6.2", "6.8"),
             "商铺二层为住宅，一层储存销售油漆、天那水约6吨，位于商贸城人员密集区域。",
             "清除全部易燃易爆危险品，停止在商贸城内经营。", "钟老板"),
        (
            # sealed 109 days ago: its month ends about 79 days ago (up to 8 days later when a
            # holiday intervenes), well before the "not eliminated" record
            *_listed(112, 110, 103, 101, 98, 93, 91, 40, "street:dingcheng:wulingzhen",
                     review=106, seal=109),
            s("sealing_in_force", 62, event="not_eliminated",
              reason="查封期满，易燃易爆危险品尚未清除，继续查封。"),
            s("report_rectification_progress", 50, percent=100, completed=True,
              progress="油漆、天那水已全部转移至合规仓库，商铺改为五金经营，申请复查。"),
            s("sealing_continued", 49, application_received_on=49),
            s("lifting_check", 48),
            s("reinspection", 47, findings="复查合格：场所内已无易燃易爆危险品。"),
            s("lifting_decision", 46),
            s("request_closure", 46, findings="复查合格：场所内已无易燃易爆危险品。"),
            s("close_case", 45),
        ),
        stage="已销案（专家论证、临时查封）",
    ),
    DemoCase(
        "liuyehu.liuyehu", 75,
        Unit("柳叶湖云栖民宿", "常德市柳叶湖旅游度假区柳叶湖街道环湖路18号", "liuyehu",
             "柳叶湖街道", "hospitality", ("crowded",), ("6.10",),
             "民宿客房区为聚苯乙烯夹芯彩钢板搭建，芯材燃烧性能低于A级。",
             "拆除彩钢板客房，改用不燃材料重建。", "曹老板"),
        (
            s("refer_to_fire_rescue", 72),
            s("file_case", 70),
            s("collective_deliberation", 67),
            s("serve_rectification_notice", 65),
            s("report_to_government", 63),
            s("government_decision", 58, decision="disagree",
              comments="该民宿体量较小，不予挂牌，由消防救援大队依法处理。"),
            s("enforce_by_fire_rescue", 56, rectify_by=10,
              supervising_agency="industry:city:wenlv"),
            s("report_rectification_progress", 20, percent=100, completed=True,
              progress="彩钢板客房已全部拆除，新建客房采用砖混结构，申请复查。"),
            s("reinspection", 17, findings="复查合格：原彩钢板客房已拆除。"),
            s("request_closure", 16, findings="复查合格：原彩钢板客房已拆除。"),
            s("close_case", 14, delisted=False),
        ),
        stage="已销案（政府不同意，依职权处理）",
    ),
    # --- 一般火灾隐患 (ordinary branch) -----------------------------------------------------
    # Found after 2025-11-01: the 2017 elements are an aid only, so even a "not major" aid
    # verdict goes to the fire agency, whose deliberation finds it ordinary (GB 35181-2025 in
    # force, not installed; docs/gb35181_editions.md).
    DemoCase(
        "wuling.chuanzihe", 6,
        Unit("武陵区味道湘菜馆", "常德市武陵区穿紫河街道紫缘路8号", "wuling", "穿紫河街道",
             "hospitality", ("crowded",), ("7.9.3",),
             "后厨液化气钢瓶与灶具连接软管老化，未设燃气泄漏报警装置。",
             "更换燃气软管，加装燃气泄漏报警装置。", "傅老板"),
        (
            s("refer_to_fire_rescue", 5),
            s("file_case", 4),
            s("collective_deliberation", 2, outcome="not_major", override=True,
              override_reason="现场核查：仅一处燃气软管老化，可限期更换，不构成重大火灾隐患，按一般隐患责令改正。"),
        ),
        stage="责令改正（集体讨论认定为一般隐患）",
    ),
    DemoCase(
        "dingcheng.wulingzhen", 15,
        Unit("鼎城区万家福超市", "常德市鼎城区武陵镇永安路30号", "dingcheng", "武陵镇",
             "retail", ("crowded",), ("6.6",),
             "超市二层营业区未见自动喷水灭火系统喷头。", "完善二层自动喷水灭火系统。", "袁店长"),
        (
            s("refer_to_fire_rescue", 12),
            s("file_case", 10),
            s("collective_deliberation", 8, outcome="not_major", override=True,
              override_reason="现场核查：二层营业面积仅480平方米，按规范可不设自动喷水灭火系统，"
              "不构成重大火灾隐患，按一般隐患责令改正。"),
        ),
        stage="责令改正（集体讨论认定为一般隐患）",
    ),
    DemoCase(
        "dingcheng.yuxia", 27,
        Unit("鼎城区蜀香火锅店", "常德市鼎城区玉霞街道建设路22号", "dingcheng", "玉霞街道",
             "hospitality", ("crowded",), ("7.9.3", "7.3.6"),
             "燃气管道未设紧急切断阀，大厅疏散指示标志两处损坏。",
             "加装燃气紧急切断阀，更换疏散指示标志。", "萧老板"),
        (
            s("refer_to_fire_rescue", 26),
            s("file_case", 25),
            s("collective_deliberation", 23, outcome="not_major", override=True,
              override_reason="集体讨论：两项隐患均可限期整改，不构成重大火灾隐患，按一般隐患责令限期改正。"),
            s("order_correction", 22, correct_by=10),
        ),
        stage="复查（一般隐患，逾期）",
    ),
    DemoCase(
        "gaoxin.guanxi", 9,
        Unit("高新区宏远机械厂", "常德市高新技术产业开发区灌溪镇岗市路6号", "gaoxin", "灌溪镇",
             "manufacturing", ("other",), ("7.7.2",),
             "车间火灾自动报警系统部分探测器故障。", "修复火灾报警探测器并保持正常运行。",
             "程厂长"),
        (
            s("refer_to_fire_rescue", 8),
            s("file_case", 7),
            s("collective_deliberation", 5, outcome="not_major", override=True,
              override_reason="集体讨论：故障探测器数量少，可限期修复，不构成重大火灾隐患，按一般隐患责令限期改正。"),
            s("order_correction", 4, correct_by=-7),
        ),
        stage="改正期间（复查申请或期限届满后复查）",
    ),
    DemoCase(
        "wuling.nanping", 14,
        Unit("武陵区书香网吧", "常德市武陵区南坪街道武陵大道98号", "wuling", "南坪街道",
             "entertainment", ("crowded",), ("7.3.6",),
             "疏散指示标志三处不亮，一个灭火器压力不足。", "更换疏散指示标志和灭火器。", "高老板",
             can_correct=True),
        (s("order_correction", 12, correct_by=2), s("ordinary_reinspection", 1)),
        stage="已结案（一般隐患）",
        found_on="2025-10-22",  # GB 35181-2017 in force
    ),
    DemoCase(
        "xihu.xizhou", 30,
        Unit("西湖管理区丰收粮食烘干仓库", "常德市西湖管理区西洲乡粮站路1号", "xihu", "西洲乡",
             "warehousing", ("other",), ("7.4.2", "7.6.2"),
             "室外消火栓损坏，消防水泵未设专用供电回路。",
             "修复室外消火栓，为消防水泵敷设专用供电回路。", "雷站长"),
        (
            s("order_correction", 28, correct_by=14),
            s("ordinary_reinspection", 10, result="fail",  # re-inspected late
              findings="室外消火栓已修复，消防水泵专用回路尚未敷设。"),
            s("refer_unrectified", 9),
            s("ordinary_penalty", 8, new_correct_by=3),
            s("ordinary_reinspection", 2, findings="复查合格：消防水泵专用供电回路已敷设。"),
        ),
        stage="已结案（一般隐患，逾期不改正，移送处罚一次）",
        found_on="2025-10-09",  # GB 35181-2017 in force
    ),
)  # fmt: skip


# --- form data ---------------------------------------------------------------------------------


class _Seeder:
    """Puts the cases of :data:`CASES` on a :class:`~server.demo_timeline.Timeline`: each is
    registered and advanced through :mod:`server.operations` at its own moments."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.today = timeline.today
        self.users = {u.username: u for u in db.session.scalars(select(User))}
        self.officers: dict[int, User] = {}
        for user in sorted(self.users.values(), key=lambda u: u.id):
            if user.has_role("officer"):
                self.officers.setdefault(user.agency_id, user)
        self.serial = 0  # numbers documents and people
        self.case_ids: dict[int, int] = {}  # by the spec's index

    def day(self, ago: int) -> date:
        """The ``ago``-th working day before today (negative: after today)."""
        return self.timeline.workday(ago)

    def iso(self, ago: int) -> str:
        """:meth:`day` as ``YYYY-MM-DD``."""
        return self.day(ago).isoformat()

    def next_no(self) -> int:
        """A running document number."""
        self.serial += 1
        return self.serial

    def people(self, count: int, start: int) -> list[str]:
        """``count`` distinct deterministic names."""
        names: list[str] = []
        n = start
        while len(names) < count:
            name = _person(n)
            if name not in names:
                names.append(name)
            n += 1
        return names

    # --- running a case -------------------------------------------------------------------

    def anchored(self, spec: DemoCase) -> DemoCase:
        """A case found on a fixed day (``found_on``) runs from that day: its table's counts,
        relative to ``found``, are moved there (as counts before today)."""
        if spec.found_on is None:
            return spec
        start = date.fromisoformat(spec.found_on)

        def ago(value: int) -> int:
            return self.timeline.ago_of(self.timeline.shift(start, spec.found - value))

        steps = tuple(
            Step(
                step.task,
                ago(step.ago),
                {
                    k: ago(v) if k in DATE_FIELDS and isinstance(v, int) else v
                    for k, v in step.fields.items()
                },
            )
            for step in spec.steps
        )
        return replace(spec, found=ago(spec.found), steps=steps)

    def plan(self, index: int, spec: DemoCase) -> None:
        """Put the case's registration and steps on the timeline, each at its own moment."""
        spec = self.anchored(spec)
        key = index * 7
        at = self.timeline.moment(self.day(spec.found), key)
        self.timeline.add(at, partial(self._register, index, spec), spec.unit.name)
        for n, step in enumerate(spec.steps, start=1):
            if step.ago > (spec.steps[n - 2].ago if n > 1 else spec.found):
                raise ValueError(f"演示案件“{spec.unit.name}”的步骤未按时间排列：{step.task}")
            at = self.timeline.moment(self.day(step.ago), key + n, after=at)
            self.timeline.add(at, partial(self._step, index, spec, step), step.task)
        if spec.claim:  # the officer holding the next task takes it that afternoon
            at = self.timeline.not_future(at + timedelta(hours=2), at)
            self.timeline.add(at, partial(self._claim, index), "claim")

    def _register(self, index: int, spec: DemoCase) -> None:
        self.case_ids[index] = self._start(self.users[spec.registrar], index, spec).id

    def _step(self, index: int, spec: DemoCase, step: Step) -> None:
        case_id = self.case_ids[index]
        task = db.session.scalar(
            select(Task)
            .where(Task.case_id == case_id, Task.state == "ready", Task.name == step.task)
            .order_by(Task.created_at)
            .limit(1)
        )
        if task is None:
            ready = db.session.scalars(
                select(Task.name).where(Task.case_id == case_id, Task.state == "ready")
            ).all()
            raise RuntimeError(f"演示案件“{spec.unit.name}”：{step.task} 不在待办中（{ready}）")
        officer = self.officers.get(task.agency_id)
        if officer is None:
            raise RuntimeError(f"演示数据缺少机构 {task.agency.code} 的承办人")
        data = self.form(step.task, step.ago, index, spec, step.fields)
        try:
            complete_task(officer, task, data)
        except FormInvalid as exc:
            raise RuntimeError(
                f"演示案件“{spec.unit.name}”的 {step.task} 表单有误：{exc.fields}"
            ) from exc

    def _claim(self, index: int) -> None:
        for task in db.session.scalars(
            select(Task).where(Task.case_id == self.case_ids[index], Task.state == "ready")
        ).all():
            officer = self.officers.get(task.agency_id)
            if officer is not None:
                claim_task(officer, task)

    def _start(self, registrar: User, index: int, spec: DemoCase) -> Case:
        unit = spec.unit
        data = {
            "unit_name": unit.name,
            "address": unit.address,
            "district": unit.district,
            "street": unit.street,
            "industry": unit.industry,
            **demo_classification(unit),
            "site_categories": list(unit.categories),
            "found_on": spec.found_on or self.iso(spec.found),
            "description": unit.hazard,
            "elements": list(unit.elements),
            "exclusions": [],
            "can_correct_immediately": unit.can_correct,
            "contact_person": unit.contact,
            "contact_phone": f"1{3 + index % 7}907{index:02d}{(index * 37) % 10000:04d}"[:11],
        }
        try:
            return start_case(registrar, PROCESS, data)
        except FormInvalid as exc:
            raise RuntimeError(f"演示案件“{unit.name}”的登记表单有误：{exc.fields}") from exc

    # --- the forms --------------------------------------------------------------------------

    def form(
        self, task: str, ago: int, index: int, spec: DemoCase, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Valid, realistic form data for ``task`` done ``ago`` days ago."""
        unit = spec.unit
        on = self.iso(ago)
        year = self.day(ago).year
        d = unit.district
        abbr = ABBR.get(d, "常")
        n = self.next_no()
        brigade = self.people(6, index * 5 + 3)
        division = division_name(d)
        data: dict[str, Any]
        if task == "refer_to_fire_rescue":
            # the letter's number is generated with its document (server.documents)
            data = {
                "referred_on": on,
                "contents": (
                    f"我单位在检查中发现{unit.name}（{unit.address}）存在火灾隐患：{unit.hazard}"
                    f"对照GB 35181判定要素{'、'.join(unit.elements)}，初步判定为重大火灾隐患，"
                    f"现函告贵大队依法立案查处。"
                ),
            }
        elif task == "file_case":
            data = {
                "case_no": f"常消隐〔{year}〕{100 + index}号",
                "filed_on": on,
                "inspected_on": on,
                "inspectors": [
                    {"name": name, "cert_no": f"HN0736{(index * 13 + k) % 1000:03d}"}
                    for k, name in enumerate(brigade[:2])
                ],
                "verification": f"{brigade[0]}、{brigade[1]}到场核查，函告情况属实：{unit.hazard}",
                "technically_complex": False,
                "sealing": "none",
            }
        elif task == "expert_review":
            names = self.people(7, index * 11 + 40)
            data = {
                "reviewed_on": on,
                "experts": [
                    {"name": name, "title": EXPERT_UNITS[(index + k) % 9][0],
                     "unit": EXPERT_UNITS[(index + k) % 9][1]}
                    for k, name in enumerate(names)
                ],
                "agreeing": max(ceil(len(names) * 2 / 3), len(names) - 1),
                "conclusion": "major",
                "opinion": f"专家组经现场踏勘和资料审查，认为{unit.name}构成重大火灾隐患。",
                "stakeholders_heard": f"已听取{unit.contact}的陈述，其对核查事实无异议。",
            }  # fmt: skip
        elif task == "collective_deliberation":
            data = {
                "deliberated_on": on,
                "participants": [
                    {"name": name, "position": DELIBERATION_POSITIONS[k]}
                    for k, name in enumerate(brigade[2:6] + brigade[:1])
                ],
                "outcome": "major",
                "override": False,
                "needs_sealing": False,
                "minutes": f"{division}消防救援大队集体讨论，一致认定{unit.name}构成重大火灾隐患。",
            }
        elif task == "serve_rectification_notice":
            data = {
                "served_on": on,
                "recipient": f"{unit.name}（签收人：{unit.contact}）",
                "service_method": ("direct", "direct", "lodged", "mail")[index % 4],
                "requirements": unit.fix,
                # the 送达回证's particulars (docs/documents.md §4.4)
                "served_time": f"{9 + index % 8:02d}:{(index * 7) % 60:02d}",
                "place": unit.address,
                "receiver": unit.contact,
                "receiver_relation": "单位负责人",
                "server_1": brigade[2],
                "server_2": brigade[3],
            }
            if data["service_method"] == "lodged":
                data |= {
                    "witness": f"{unit.street}工作人员 {brigade[4]}",
                    "remarks": "受送达人拒绝签收，留置于其经营场所。",
                }
        elif task in ("temporary_sealing", "emergency_sealing_decision"):
            grounds = ["flammables_in_crowded"] if "6.8" in unit.elements else ["no_evacuation"]
            data = {
                "decided_on": on,
                "participants": f"{division}消防救援大队 {'、'.join(brigade[2:5])}",
                "decision": "seal",
                "decision_no": f"常{abbr}消封字〔{year}〕{n}号",
                "served_on": on,
                "sealed_until": (self.day(ago) + timedelta(days=30)).isoformat(),
                "grounds": grounds,
                "scope": f"{unit.name}全部经营场所，张贴临时查封决定并加贴封条。",
            }
            if task == "temporary_sealing":
                data |= {
                    "notified_on": on,
                    "sealed_on": on,
                    "statement": f"{unit.contact}表示将尽快整改，未提出异议。",
                }
            else:
                data["approver"] = f"{division}消防救援大队大队长 {brigade[5]}"
        elif task in ("sealing_in_force", "sealing_continued"):
            data = {
                "event": "application",
                "recorded_on": on,
                "application_received_on": on,
                "reason": f"{unit.contact}书面申请：火灾隐患已消除，申请解除临时查封。",
            }
        elif task == "lifting_check":
            data = {
                "checked_on": on,
                "inspectors": f"{brigade[0]}、{brigade[1]}",
                "eliminated": True,
                "findings": "到场检查，火灾隐患已经消除。",
            }
        elif task == "lifting_decision":
            data = {
                "decision": "lift",
                "decision_no": f"常{abbr}消解封字〔{year}〕{n}号",
                "decided_on": on,
                "served_on": on,
                "reason": "经检查火灾隐患已经消除，解除临时查封。",
            }
        elif task == "report_to_government":
            data = {
                "reported_on": on,
                "kind": "suspension" if index % 5 == 3 else "listed_supervision",
                "opinion": (
                    f"{unit.name}经集体讨论认定为重大火灾隐患，整改涉及资金和搬迁，"
                    f"单位自身难以按期完成，建议{division}人民政府挂牌督办。"
                ),
                "signer": brigade[5],  # 签发人: the brigade's leader
            }
        elif task == "government_decision":
            # the 批复's number (and the 挂牌督办通知's) is generated with its document
            data = {
                "decision": "agree",
                "decided_on": on,
                "listed": True,
                "responsible_person": f"法定代表人 {unit.contact}",
                "rectify_by": on,  # replaced by the step
                "supervising_departments": (
                    f"{unit.street}负责督促整改并每月报送整改进展；行业主管部门依职责督促；"
                    f"{division}消防救援大队负责技术指导和复查。"
                ),
                "notice_addressees": f"{unit.street}，{division}有关部门",
                "cc": f"{division}应急管理局",
                "comments": "同意挂牌督办，由属地和行业主管部门督促整改。",
            }
            if fields.get("decision") == "disagree":  # a refusal states no terms
                data = {"decision": "disagree", "decided_on": on}
        elif task == "set_rectification_plan":
            leader = self.people(1, index * 3 + 70)[0]
            data = {
                "decided_on": on,
                "rectify_by": on,  # replaced by the step
                "listed": True,
                "responsible_leader": f"{division}{_leader_title(d)} {leader}",
                "supervising_agency": "",  # replaced by the step
                "measures": f"{unit.fix}属地街道和行业部门每月报送整改进展。",
                "funding": "对消防设施改造给予专项资金补助。",
                "funding_amount": float(10 + index % 7 * 5),
            }
        elif task == "enforce_by_fire_rescue":
            data = {
                "decided_on": on,
                "measures": ["order_correction", "fine"],
                "rectify_by": on,  # replaced by the step
                "supervising_agency": "",  # replaced by the step
                "details": f"常{abbr}消行罚决字〔{year}〕{n}号：责令限期改正并处罚款。",
            }
        elif task == "report_rectification_progress":
            data = {
                "reported_on": on,
                "progress": "整改按计划推进中。",
                "percent": 50,
                "completed": False,
            }
        elif task == "rectification_overdue_measures":
            data = {"measure": "interview", "taken_on": on, "notes": "约谈单位法定代表人。"}
        elif task == "reinspection":
            data = {"reinspected_on": on, "result": "pass", "findings": "复查合格。"}
        elif task == "request_closure":  # the 请示's number is generated with it
            data = {
                "requested_on": on,
                "signer": brigade[5],
                "findings": "复查合格，重大火灾隐患已整改消除。",
            }
        elif task == "close_case":  # the 批复's number is generated with it
            data = {
                "closed_on": on,
                "delisted": True,
                "summary": f"{unit.name}重大火灾隐患已整改到位，经复查合格，予以销案摘牌。",
            }
        elif task == "order_correction":
            data = {
                "order_no": f"{abbr}{unit.street[:1]}责改〔{year}〕{n}号",
                "issued_on": on,
                "correct_by": on,  # replaced by the step
                "requirements": unit.fix,
            }
        elif task == "await_reinspection_request":
            data = {"applied_on": on, "contents": f"{unit.contact}申请复查：已按要求改正。"}
        elif task == "ordinary_reinspection":
            data = {"reinspected_on": on, "result": "pass", "findings": "复查合格，隐患已改正。"}
        elif task == "refer_unrectified":
            data = {
                "letter_no": f"{abbr}{unit.street[:1]}移〔{year}〕{n}号",
                "referred_on": on,
                "contents": (
                    f"{unit.name}逾期未改正，复查不合格，移送{division}消防救援大队依法处罚。"
                ),
            }
        elif task == "ordinary_penalty":
            data = {
                "decision_no": f"常{abbr}消行罚决字〔{year}〕{n}号",
                "decided_on": on,
                "measures": ["fine"],
                "fine_amount": 8000,
                "new_correct_by": on,  # replaced by the step
                "notes": (
                    "对火灾隐患经通知后逾期不改正，依据《消防法》第六十条第一款第（七）项处罚。"
                ),
            }
        else:
            raise KeyError(task)
        for key, value in fields.items():
            data[key] = self.iso(value) if key in DATE_FIELDS and isinstance(value, int) else value
        return data


def _leader_title(district: str) -> str:
    """The title of the government leader answerable for rectification in ``district``."""
    division = DIVISIONS_BY_CODE.get(district)
    return LEADER_TITLES.get(division.kind, "副区长") if division else "副市长"


#: Demo-only colleagues (not in the directory's one-per-role set the tests build on): a second
#: officer of one brigade, so that 转办 (handing a claimed task to a colleague) can be seen.
COLLEAGUES: list[tuple[str, str, str, str]] = [
    ("wuling.fire2", "武陵区消防大队承办人（二）", "fire_brigade:wuling", "officer"),
]


def _ensure_colleagues(password: str) -> int:
    """Create the missing :data:`COLLEAGUES`; returns how many were added."""
    existing = set(db.session.scalars(select(User.username)))
    missing = [c for c in COLLEAGUES if c[0] not in existing]
    for username, name, agency_code, roles in missing:
        create_user(username, name, agency_code, roles, password)
    db.session.commit()
    return len(missing)


def seed(password: str) -> dict[str, Any]:
    """Create the agencies, the demo users (with ``password``) and the demo cases.

    :returns: ``{"agencies": added, "users": added, "cases": created, "logins": [(username,
        what they see)]}``.
    """
    agencies = ensure_agencies()
    users = ensure_demo_users(password) + _ensure_colleagues(password)
    timeline = Timeline(today_shanghai())
    seeder = _Seeder(timeline)
    for index, spec in enumerate(CASES, start=1):
        seeder.plan(index, spec)
    fires = plan_fires(timeline)
    plan_rounds(timeline, sorted({spec.unit.district for spec in CASES}))
    plan_reports(timeline)
    timeline.run()
    read_acted_messages(timeline)
    return {
        "agencies": agencies,
        "users": users,
        "cases": len(CASES) + fires,
        "logins": list(LOGINS),
    }
