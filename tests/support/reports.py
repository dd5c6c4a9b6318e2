"""Valid form data for the report processes' steps (monthly_report, annual_report), as the
integration tests fill them."""

from __future__ import annotations

from datetime import date
from typing import Any

SUBMIT_TASKS = ("submit_monthly_report", "submit_annual_report")
REVIEW_TASKS = ("review_monthly_report", "review_annual_report")


def sample(task: str, on: date) -> dict[str, Any]:
    """Form data for ``task`` acted on ``on``.

    :raises KeyError: for a task of another process.
    """
    if task in SUBMIT_TASKS:
        return {
            "filled_on": on.isoformat(),
            "preparer": "张伟",
            "reviewer": "李强",
            "contact_phone": "0736-7223119",
            "work_summary": "本月按计划推进专项整治，重大火灾隐患均已登记并跟踪整改。",
            "remarks": "无",
        }
    if task in REVIEW_TASKS:
        return {
            "reviewed_on": on.isoformat(),
            "decision": "return",
            "reason": "“工作情况”未说明约谈、曝光的单位，请补充后重新报送。",
        }
    raise KeyError(task)
