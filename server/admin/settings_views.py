"""The administrators' page of legal settings (each figure, its basis, its value in force)
and of the application settings (:mod:`server.app_settings`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server import operations
from server.admin.legal_settings import save_setting, setting_state, setting_states
from server.auth import roles_required

bp = Blueprint("settings_admin", __name__, url_prefix="/admin/settings")
BOOLEAN_WORDS = {"true": True, "1": True, "是": True, "false": False, "0": False, "否": False}


def parse_value(kind: str, text: str) -> Any:
    """A submitted text as the setting's type; ValueError with a Chinese message."""
    text = text.strip()
    if kind == "boolean":
        if text not in BOOLEAN_WORDS:
            raise ValueError("请选择是或否")
        return BOOLEAN_WORDS[text]
    if kind == "string":
        return text
    try:
        number = float(text.replace(",", "").replace("，", ""))
    except ValueError:
        raise ValueError("请填写数字") from None
    return int(number) if kind == "integer" and number.is_integer() else number


def _render(errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Any:
    status = 422 if errors else 200
    return render_template(
        "admin/settings.html",
        states=setting_states(),
        errors=errors or {},
        values=values or {},
    ), status


@bp.get("")
@roles_required("admin")
def index() -> Any:
    """Every legal setting with its value, default, basis and last change."""
    return _render()


@bp.post("/<key>")
@roles_required("admin")
def update(key: str) -> Any:
    """Save one setting's value, or restore its default (``reset``)."""
    state = setting_state_or_404(key)
    if request.form.get("reset"):
        value = None
    else:
        text = request.form.get("value", "")[:500]
        try:
            value = parse_value(state.setting.type, text)
        except ValueError as exc:
            return _render({key: str(exc)}, {key: text})
    try:
        saved = save_setting(current_user, key, value)
    except operations.FormInvalid as exc:
        return _render({key: exc.message}, {key: request.form.get("value", "")[:500]})
    unit = saved.setting.unit
    shown = {True: "是", False: "否"}.get(saved.value, saved.value)
    if saved.setting.type in ("integer", "number"):
        shown = f"{saved.value:,}"
    when = "即时生效" if saved.scope == "app" else "此后新登记的案件按此值办理"
    flash(f"已保存“{saved.setting.label}”：{shown}{unit}。{when}。", "success")
    return redirect(url_for("settings_admin.index") + f"#setting-{key}", code=303)


def setting_state_or_404(key: str) -> Any:
    """The setting's state, or a 404 page for an unknown key."""
    try:
        return setting_state(key)
    except operations.NotFound:
        from flask import abort

        abort(404)
