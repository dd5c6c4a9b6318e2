"""HTML blueprints of the officers', supervisors' and auditors' pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server import display
from server.auth import landing_url
from server.case_view import verdict_lines
from server.models import ROLE_LABELS
from server.operations import startable_processes
from server.parsing import BadParameter

ERROR_PAGES = {
    400: ("请求无效", "提交的内容无法处理。如果页面停留时间较长，请刷新页面后重新提交。"),
    403: ("无权操作", "您没有进行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或者您无权查看。请从导航栏重新进入。"),
    405: ("请求方式不正确", "请从页面上的按钮或链接进行操作。"),
    413: ("文件过大", "上传的文件超过了大小限制（{limit}MB），请压缩或拆分后重新上传。"),
    500: ("系统出错", "系统暂时无法完成这个请求，请稍后重试；问题持续时请联系管理员。"),
}


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation."""

    label: str
    url: str
    current: bool


def nav_items() -> list[NavItem]:
    """The navigation links of the current user, by role."""
    if not current_user.is_authenticated:
        return []
    items: list[tuple[str, str, tuple[str, ...]]] = []
    starts: list[NavItem] = []
    if current_user.has_role("officer"):
        items.append(("待办任务", "inbox.index", ("inbox.", "tasks.")))
        new = request.endpoint == "cases.new"
        startable = startable_processes(current_user)
        for process_id in sorted(startable, key=list(display.START_LABELS).index):
            label = display.START_LABELS.get(process_id, "登记")
            current = new and request.args.get("process", process_id) == process_id
            starts.append(NavItem(label, url_for("cases.new", process=process_id), current))
    if current_user.has_role("supervisor"):
        items.append(("督办看板", "supervision.dashboard", ("supervision.",)))
    if current_user.has_role("auditor"):
        items.append(("案卷审计", "audit.index", ("audit.",)))
    items.append(("案件", "cases.index", ("cases.index", "cases.show")))
    items.append(("两个清单", "reports.lists", ("reports.lists",)))
    items.append(("报告报送", "reports.submissions", ("reports.submission", "reports.refresh")))
    items.append(("预警公告", "warnings.index", ("warnings.",)))
    if current_user.has_role("admin"):
        items.append(("节假日", "calendar_admin.index", ("calendar_admin.",)))
        items.append(("法定参数", "settings_admin.index", ("settings_admin.",)))
        items.append(
            (
                "用户",
                "directory_admin.users",
                ("directory_admin.users", "directory_admin.new_user", "directory_admin.edit_user"),
            )
        )
        items.append(
            (
                "单位",
                "directory_admin.agencies",
                (
                    "directory_admin.new_agency",
                    "directory_admin.agencies",
                    "directory_admin.edit_agency",
                ),
            )
        )
    endpoint = request.endpoint or ""
    nav = [
        NavItem(label, url_for(target), any(endpoint.startswith(p) for p in prefixes))
        for label, target, prefixes in items
    ]
    # Registration links follow the inbox: one per process the user may open cases of.
    return nav[:1] + starts + nav[1:] if current_user.has_role("officer") else nav


def role_labels(user: Any) -> str:
    """The user's roles in Chinese."""
    return "、".join(ROLE_LABELS.get(role, role) for role in user.role_list)


def home_url() -> str:
    """Where the brand link leads: the user's landing page, or the login page."""
    if current_user.is_authenticated:
        return landing_url(current_user)
    return url_for("auth.login")


def _error_page(error: HTTPException) -> Any:
    """A Chinese error page for browsers; API paths keep their JSON error handling."""
    if request.path.startswith("/api/"):
        return error
    code = error.code or 500
    title, message = ERROR_PAGES.get(code, (error.name, error.description or ""))
    if isinstance(error, BadParameter):
        message = str(error.description)
    if code == 413:
        limit = (request.max_content_length or 0) // (1024 * 1024)
        message = message.format(limit=limit)
    if isinstance(error, CSRFError):
        title, message = (
            "页面已过期",
            "表单的安全校验未通过（页面可能已过期）。请刷新页面后重新提交。",
        )
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    """Register the HTML blueprints, template helpers and error pages."""
    from server.views import cases, inbox, tasks

    app.register_blueprint(inbox.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(tasks.bp)
    from server.documents import views as documents_views

    app.register_blueprint(documents_views.bp)
    from server.views import audit

    app.register_blueprint(audit.bp)
    from server.admin import settings_views
    from server.views import (
        calendar_admin,
        classification,
        follow_up,
        notifications,
        reports,
        supervision,
        warnings,
    )

    for blueprint in (
        supervision.bp,
        notifications.bp,
        follow_up.bp,
        classification.bp,
        calendar_admin.bp,
        warnings.bp,
        settings_views.bp,
        reports.bp,
    ):
        app.register_blueprint(blueprint)
    from server.admin import directory_views

    app.register_blueprint(directory_views.bp)
    app.register_blueprint(directory_views.contacts_bp)
    display.init_app(app)
    app.jinja_env.globals.update(
        nav_items=nav_items, role_labels=role_labels, home_url=home_url, verdict_lines=verdict_lines
    )
    for code in ERROR_PAGES:
        app.register_error_handler(code, _error_page)
