"""Demo fires for the accountability process (失火即追责), seeded like the hazard demo cases.

Each fire is registered by its division's fire rescue brigade and advanced only through
:mod:`server.operations`, each task by an officer of the agency it belongs to, each step at its
own back-dated moment (:mod:`server.demo_timeline`): the brigade registers a fire soon after the
alarm, and a deadline that passed is missed and escalated the day it fell due, so the demo shows
an overdue determination and a department that has not answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from server.demo_timeline import Timeline
from server.extensions import db
from server.models import Task, User
from server.operations import FormInvalid, complete_task, start_case
from workflows.calendar import SHANGHAI

PROCESS = "fire_accountability"
CREDIT_TASKS = (
    "credit_development_reform",
    "credit_housing",
    "credit_finance",
    "credit_market_regulation",
)


@dataclass(frozen=True)
class Fire:
    """A fire and what was done about it (steps: task, days ago, field overrides)."""

    unit: str
    address: str
    district: str
    site_type: str
    alarm: int  # days ago
    summary: str
    cause: str
    deaths: int = 0
    injuries: int = 0  # serious injuries (重伤)
    minor_injuries: int = 0  # 轻伤
    loss: int = 0
    households: int = 0
    impact: str = ""  # a major social impact, described
    disputed: bool = False  # the parties dispute the facts
    arson: bool = False  # arson is suspected
    ignition_location: str = ""  # 起火部位, as the determination states it
    burnt_area: int = 0  # 过火面积, square metres
    steps: tuple[tuple[str, int, Mapping[str, Any]], ...] = ()


def _t(task: str, ago: int, **fields: Any) -> tuple[str, int, Mapping[str, Any]]:
    return (task, ago, fields)


FIRES: tuple[Fire, ...] = (
    Fire(
        "武陵区丹阳街道某小区5栋302室",
        "常德市武陵区丹阳街道朗州路某小区5栋302室",
        "wuling",
        "residence",
        21,
        "厨房油锅起火，过火面积约8平方米，住户自行扑灭后报警，无人员伤亡。",
        "厨房灶具使用不慎，油锅过热起火。",
        loss=18_000,
        households=1,
        ignition_location="厨房灶台",
        burnt_area=8,
        steps=(_t("simplified_determination", 19), _t("publish_warning", 16)),
    ),
    Fire(
        "常德市鼎城区某纺织有限公司",
        "常德市鼎城区玉霞街道工业大道8号",
        "dingcheng",
        "industrial_mining",
        24,
        "厂房二楼仓库起火，过火面积约600平方米，1名仓管员经抢救无效死亡。",
        "二楼仓库电气线路短路引燃周围棉纱等可燃物。",
        deaths=1,
        injuries=2,
        loss=3_600_000,
        ignition_location="厂房二楼仓库东北角配电箱处",
        burnt_area=600,
        steps=(
            _t("responsibility_investigation", 12),
            _t("cause_investigation", 5),
            _t("serve_determination", 3),
        ),
    ),
    Fire(
        "常德经开区某KTV",
        "常德市经济技术开发区德山街道桃林路66号",
        "jingkai",
        "crowded_place",
        36,
        "KTV二楼包厢起火，疏散及时，3人轻微吸入烟气，无人员死亡。",
        "",
        loss=420_000,
        steps=(
            _t("responsibility_investigation", 20),
            # the four departments answer the credit referral in time
            _t("credit_development_reform", 18),
            _t("credit_housing", 17),
            _t("credit_finance", 17),
            _t("credit_market_regulation", 16),
        ),
    ),
    Fire(
        "桃源县某物流仓储有限公司",
        "常德市桃源县漳江街道物流园3号库",
        "taoyuan",
        "production_business",
        28,
        "仓库起火并蔓延至相邻库房，3名员工死亡，过火面积约3000平方米。",
        "叉车充电区违规私拉电线，线路过载发热引燃包装材料。",
        deaths=3,
        injuries=4,
        loss=12_500_000,
        households=0,
        ignition_location="仓库叉车充电区",
        burnt_area=3000,
        steps=(
            _t("record_appraisal", 21),  # 8 days of testing, not counted in the 30/60 days
            _t("cause_investigation", 20, outcome="request_extension"),
            _t("approve_extension", 18),
            _t("responsibility_investigation", 14),
            _t("credit_development_reform", 12),
            _t("credit_housing", 11),
            _t("credit_finance", 10),  # the market regulator has not answered: overdue
        ),
    ),
    Fire(
        "汉寿县某农贸市场",
        "常德市汉寿县龙阳街道沧浪路18号",
        "hanshou",
        "crowded_place",
        60,
        "农贸市场东侧商铺起火，烧毁摊位12个，无人员伤亡。",
        "商铺内电动自行车违规充电，电池热失控起火。",
        loss=860_000,
        households=12,
        ignition_location="市场东侧3号商铺内电动自行车充电处",
        burnt_area=450,
        steps=(
            _t("responsibility_investigation", 45),
            _t("cause_investigation", 44),
            _t("credit_housing", 43),
            _t("credit_finance", 42),
            _t("credit_market_regulation", 41),
            _t("serve_determination", 38),  # the 15-day review window closed unused
            _t("publish_warning", 17),
            # 市发展改革委 has not answered the credit referral: overdue in its inbox
        ),
    ),
    Fire(
        "澧县某小区地下车库",
        "常德市澧县澧阳街道兰江路某小区地下车库",
        "lixian",
        "residence",
        30,
        "地下车库电动汽车起火，烧毁车辆6辆，浓烟进入楼道，引起市民广泛关注。",
        "电动汽车动力电池故障起火。",
        loss=1_500_000,
        households=40,
        ignition_location="地下车库B区12号车位",
        burnt_area=900,
        impact="视频在网络广泛传播，多家媒体报道。",
        # No casualties, but a loss of 150万元 is not slight: the general procedure (《火灾事故
        # 调查规定》 ch. 3), by the city detachment (40 households, §6).
        steps=(
            _t("responsibility_investigation", 24),
            _t("cause_investigation", 22),
            _t("credit_development_reform", 21),
            _t("credit_housing", 20),
            _t("serve_determination", 20),  # the 15-day review window closed unused
            _t("credit_market_regulation", 19),
            _t("credit_finance", 8),  # answered late
            _t("publish_warning", 4),
            _t("report_warning_to_province", 3),
        ),
    ),
    Fire(
        "安乡县某服装加工有限公司",
        "常德市安乡县深柳镇工业园纬二路6号",
        "anxiang",
        "industrial_mining",
        30,
        "缝纫车间起火，过火面积约200平方米，无人员伤亡。",
        "车间照明线路绝缘老化短路，引燃布料。",
        loss=260_000,
        # A neighbouring workshop applies for review within 15 days of service; the city
        # detachment accepts and determines the cause itself (复核认定).
        steps=(
            _t("responsibility_investigation", 20),
            _t("credit_development_reform", 18),
            _t("credit_housing", 17),
            _t("credit_finance", 16),
            _t("credit_market_regulation", 15),
            _t("cause_investigation", 14),
            _t("serve_determination", 12),
            _t("review_request", 8),
            _t("review_acceptance", 6),
            _t("review_decision", 1, outcome="determined_directly"),
        ),
    ),
    Fire(
        "临澧县某连锁超市",
        "常德市临澧县安福街道望城路88号",
        "linli",
        "crowded_place",
        25,
        "超市仓储区起火，过火面积约60平方米，顾客及时疏散，无人员伤亡。",
        "仓储区电动叉车充电器故障起火。",
        loss=130_000,
        # A supplier who is not a party applies for review: refused on §36 ground (一).
        steps=(
            _t("responsibility_investigation", 15),
            _t("credit_development_reform", 14),
            _t("credit_housing", 13),
            _t("credit_finance", 13),
            _t("cause_investigation", 12),
            _t("serve_determination", 11),
            _t("credit_market_regulation", 4),  # answered late
            _t("review_request", 3, applicant="常德某商贸有限公司（超市供货商）"),
            _t(
                "review_acceptance",
                1,
                accepted=False,
                refusal_ground="not_a_party",
                reason="申请人系超市的供货商，不是本起火灾的当事人。",
            ),
        ),
    ),
)


class FireSeeder:
    """Puts the :data:`FIRES` on the timeline: each registered by its brigade soon after the
    alarm, its steps completed by the right officers at their own moments."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.today = timeline.today
        self.officers: dict[int, User] = {}
        for user in db.session.scalars(select(User).order_by(User.id)):
            if user.has_role("officer"):
                self.officers.setdefault(user.agency_id, user)
        self.serial = 0
        self.case_ids: dict[int, int] = {}

    def iso(self, ago: int) -> str:
        """The ``ago``-th working day before today."""
        return self.timeline.workday(ago).isoformat()

    def alarm_day(self, fire: Fire) -> date:
        """The day of the alarm: ``alarm`` working days ago, or the day before (fires break out
        on rest days too)."""
        return self.timeline.workday(fire.alarm) - timedelta(days=len(fire.unit) % 2)

    def plan(self, index: int, fire: Fire) -> None:
        """Put the fire's registration and steps on the timeline."""
        alarm = self.alarm_day(fire)
        hour, minute = map(int, self.registration(fire)["alarm_time"].split(":"))
        # the brigade registers the fire once it is out: an hour or two after the alarm
        at = datetime.combine(alarm, time(hour, minute), SHANGHAI)
        at = self.timeline.not_future(at + timedelta(minutes=70 + index * 13))
        self.timeline.add(at, partial(self._register, index, fire), fire.unit)
        for n, step in enumerate(fire.steps, start=1):
            if step[1] > (fire.steps[n - 2][1] if n > 1 else fire.alarm):
                raise ValueError(f"演示火灾“{fire.unit}”的步骤未按时间排列：{step[0]}")
            day = self.timeline.workday(step[1])
            at = self.timeline.moment(day, index * 11 + n, after=at)
            self.timeline.add(at, partial(self._step, index, fire, step), step[0])

    def _register(self, index: int, fire: Fire) -> None:
        registrar = next(
            u for u in self.officers.values() if u.agency.code == f"fire_brigade:{fire.district}"
        )
        try:
            case = start_case(registrar, PROCESS, self.registration(fire))
        except FormInvalid as exc:
            raise RuntimeError(f"演示火灾“{fire.unit}”的登记表单有误：{exc.fields}") from exc
        self.case_ids[index] = case.id

    def _step(self, index: int, fire: Fire, step: tuple[str, int, Mapping[str, Any]]) -> None:
        task_name, ago, fields = step
        task = db.session.scalar(
            select(Task).where(
                Task.case_id == self.case_ids[index], Task.state == "ready", Task.name == task_name
            )
        )
        if task is None:
            raise RuntimeError(f"演示火灾“{fire.unit}”：{task_name} 不在待办中")
        if fields.get("outcome") == "request_extension":
            data = {
                "outcome": "request_extension",
                "requested_on": self.iso(ago),
                "extension_reason": "需对起火部位残留物和电气线路进行检验鉴定。",
            }
        else:
            data = {**self.form(task_name, ago, fire), **fields}
        try:
            complete_task(self.officers[task.agency_id], task, data)
        except FormInvalid as exc:
            raise RuntimeError(f"演示火灾“{fire.unit}”的 {task_name} 有误：{exc.fields}") from exc

    def registration(self, fire: Fire) -> dict[str, Any]:
        """The brigade's registration of the fire."""
        data: dict[str, Any] = {
            "unit_name": fire.unit,
            "address": fire.address,
            "district": fire.district,
            "alarm_on": self.alarm_day(fire).isoformat(),
            "alarm_time": f"{(fire.alarm * 7) % 24:02d}:{(fire.alarm * 13) % 60:02d}",
            "site_type": fire.site_type,
            "deaths": fire.deaths,
            "serious_injuries": fire.injuries,
            "minor_injuries": fire.minor_injuries,
            "direct_loss": fire.loss,
            "households_affected": fire.households,
            "major_social_impact": bool(fire.impact),
            "facts_disputed": fire.disputed,
            "arson_suspected": fire.arson,
            "summary": fire.summary,
        }
        if fire.impact:
            data["impact_note"] = fire.impact
        return data

    def form(self, task: str, ago: int, fire: Fire) -> dict[str, Any]:
        """Realistic form data for ``task`` done ``ago`` days ago."""
        on = self.iso(ago)
        year = on[:4]
        self.serial += 1
        n = self.serial
        alarm = self.alarm_day(fire)
        alarm_time = self.registration(fire)["alarm_time"]
        # the 认定书's particulars; its number is generated on submission
        determination: dict[str, Any] = {
            "determined_on": on,
            "cause": fire.cause or "起火原因正在调查。",
            "ignition_time": f"{alarm.year}年{alarm.month}月{alarm.day}日"
            f"{alarm_time[:2]}时{alarm_time[3:]}分许",
            "ignition_location": fire.ignition_location or "起火部位正在调查",
            "burnt_area": fire.burnt_area,
            "parties": [{"name": fire.unit}],
        }
        if task == "simplified_determination":
            determination["parties"] = [{"name": fire.unit, "confirmed": True}]
            return {
                **determination,
                "investigator": "陈明",
                "investigator_cert_no": "湘消调0321",
                "served_on": on,
            }
        determination["evidence"] = [
            {"item": "现场勘验笔录"},
            {"item": "现场照片"},
            {"item": "询问笔录"},
            {"item": "视频监控资料"},
        ]
        if task == "cause_investigation":
            return {"outcome": "determined", **determination}
        if task in ("cause_determination_extended", "re_determination"):
            extra = {"served_on": on} if task == "re_determination" else {}
            return {**determination, **extra}
        if task == "approve_extension":
            # A city-level investigation: the level above is the provincial corps, whose
            # approval the detachment records (the 审批表's number is generated).
            return {"approved": True, "decided_on": on, "approving_body": "湖南省消防救援总队",
                    "approver": "王刚（总队副总队长）",
                    "opinion": f"情况复杂，同意延长30日（湘消〔{year}〕第{n}号）。"}  # fmt: skip
        if task == "serve_determination":
            return {
                "served_on": on,
                "method": "direct",
                "recipients": fire.unit,
                # the 送达回证's particulars (docs/documents.md §4.4)
                "served_time": f"{9 + ago % 8:02d}:{(ago * 7) % 60:02d}",
                "place": fire.address,
                "receiver": "刘某",
                "receiver_relation": "单位负责人",
                "server_1": "陈刚",
                "server_2": "周敏",
            }
        if task == "record_appraisal":
            return {
                "item": "起火部位残留导线熔痕金相检验",
                "institution": "湖南省消防救援总队火灾物证鉴定中心",
                "started_on": self.iso(ago + 7),
                "ended_on": on,
            }
        if task == "review_request":
            return {
                "received_on": on,
                "applicant": "张某（相邻商户）",
                "grounds": "对起火部位有异议。",
            }
        if task == "review_acceptance":
            return {"decided_on": on, "accepted": True}
        if task == "review_decision":
            return {
                "decided_on": on,
                "outcome": "determined_directly",
                "reasons": (
                    "原认定对起火部位的认定证据不足；经复核现场勘验和电气线路鉴定，"
                    "起火部位应为车间东北角配电箱。"
                ),
                "cause": "车间东北角配电箱内断路器接线端子接触不良过热，引燃周围布料。",
            }
        if task == "responsibility_investigation":
            return {
                "completed_on": on,
                "parties": [
                    {
                        "name": fire.unit,
                        "party_type": "unit",
                        "responsibility": "principal",
                        "facts": "未落实消防安全主体责任，隐患长期未整改。",
                        "handling": "依法罚款，纳入消防安全失信名单",
                        "credit_referral": True,
                    },
                    {
                        "name": "属地行业主管部门",
                        "party_type": "department",
                        "responsibility": "supervisory",
                        "facts": "日常检查流于形式。",
                        "handling": "约谈并责令整改",
                        "credit_referral": False,
                    },
                ],
                "report": "单位主体责任不落实，行业部门监管不到位。",
            }
        if task == "publish_warning":
            return {
                "published_on": on,
                "title": f"关于{fire.unit}火灾的警示通报",
                # the requirements only: the notice states the facts from the case itself
                "text": "一、立即组织开展同类场所消防安全自查自纠，重点排查电气线路和用火用电。\n"
                "二、督促生产经营单位落实消防安全主体责任，畅通疏散通道。\n"
                "三、加强消防安全宣传提示，提高群众火灾防范意识。",
                "channels": ["government_site", "wechat"],
            }
        if task == "report_warning_to_province":
            return {
                "reported_on": on,
                "report_no": f"常消安办〔{year}〕{n}号",
                "recipient": "湖南省消防安全委员会办公室",
                "contents": fire.summary,
            }
        if task in CREDIT_TASKS:
            return {
                "acknowledged_on": on,
                "subjects": fire.unit,
                "measures": ["credit_rating", "fiscal_subsidy"],
                "measure_taken": "已记入企业信用档案，一年内暂停财政奖补资格。",
            }
        raise KeyError(task)


def plan_fires(timeline: Timeline) -> int:
    """Put the demo fires on the timeline; returns how many."""
    seeder = FireSeeder(timeline)
    for index, fire in enumerate(FIRES, start=1):
        seeder.plan(index, fire)
    return len(FIRES)
