"""The legal settings as the app holds them: documented defaults, administrators' values.

The catalogue (what may be set, its label, type, default and legal basis) is the data file
``bpmn/legal_settings.json`` read by :mod:`workflows.legal_settings`; this module stores the
administrators' values (table ``legal_setting``), answers the effective values that every new
case takes a snapshot of, and changes a value (one transaction, a ``legal_setting_changed``
event on the system audit chain). The application settings (``server/app_settings.json``,
:mod:`server.app_settings`: not figures of the law, no case takes a snapshot of them) share the
table, the page and the API; their states say ``scope="app"``.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from server import app_settings
from server.audit import append_event
from server.extensions import db
from server.models import LegalSetting, User
from server.operations import Forbidden, FormInvalid, NotFound, _transaction
from workflows import legal_settings
from workflows.legal_settings import Setting, SettingError


@dataclass(frozen=True)
class SettingState:
    """One setting with its value in force and who set it."""

    setting: Setting
    value: Any
    changed: bool  # an administrator's value, not the default
    updated_at: datetime | None
    updated_by: User | None
    scope: str = "legal"  # legal: snapshotted by new cases; app: applies at once

    def as_json(self) -> dict[str, Any]:
        """The API's representation."""
        s = self.setting
        return {
            "key": s.key,
            "label": s.label,
            "type": s.type,
            "unit": s.unit,
            "value": self.value,
            "default": s.default,
            "changed": self.changed,
            "min": s.min,
            "max": s.max,
            "basis": s.basis,
            "used_by": s.used_by,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by.username if self.updated_by else None,
            "scope": self.scope,
        }


def _rows() -> dict[str, LegalSetting]:
    return {row.key: row for row in db.session.scalars(select(LegalSetting))}


def effective_settings() -> dict[str, Any]:
    """The values in force now (defaults with the administrators' values over them)."""
    return legal_settings.effective({key: row.value for key, row in _rows().items()})


def setting_states() -> list[SettingState]:
    """Every setting of the catalogue, in its order, with its value in force."""
    rows = _rows()
    values = legal_settings.effective({key: row.value for key, row in rows.items()})
    editors = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({r.updated_by_id for r in rows.values()} - {None}))
        )
    }
    for setting in app_settings.catalogue():
        values[setting.key] = setting.default
        if setting.key in rows:
            with suppress(SettingError):
                values[setting.key] = setting.check(rows[setting.key].value)
    states = []
    scoped = [(s, "legal") for s in legal_settings.catalogue()]
    scoped += [(s, "app") for s in app_settings.catalogue()]
    for setting, scope in scoped:
        row = rows.get(setting.key)
        changed = row is not None and values[setting.key] == row.value
        states.append(
            SettingState(
                setting,
                values[setting.key],
                changed and values[setting.key] != setting.default,
                row.updated_at if row is not None else None,
                editors.get(row.updated_by_id) if row is not None and row.updated_by_id else None,
                scope,
            )
        )
    return states


def setting_state(key: str) -> SettingState:
    """One setting's state; NotFound for a key the catalogue does not list."""
    for state in setting_states():
        if state.setting.key == key:
            return state
    raise NotFound("没有这个设置项")


def save_setting(user: User, key: str, value: Any) -> SettingState:
    """Set one setting (administrators only); the default again when ``value`` is None.

    :raises Forbidden: for anyone but an administrator.
    :raises NotFound: for a key the catalogue does not list.
    :raises FormInvalid: when the value does not fit the setting (nothing is written).
    """
    if not user.has_role("admin"):
        raise Forbidden("只有管理员可以修改法定参数和系统参数")
    setting = next((s for s in app_settings.catalogue() if s.key == key), None)
    if setting is None:
        try:
            setting = legal_settings.setting(key)
        except SettingError:
            raise NotFound("没有这个设置项") from None
    if value is not None:
        try:
            value = setting.check(value)
        except SettingError as exc:
            raise FormInvalid(str(exc), {"value": str(exc)}) from None
    with _transaction():
        row = db.session.get(LegalSetting, key)
        previous = row.value if row is not None else None
        if value is None or value == setting.default:
            if row is not None:
                db.session.delete(row)
        else:
            if row is None:
                row = LegalSetting(key=key)
                db.session.add(row)
            row.value = value
            row.updated_at = datetime.now(UTC)
            row.updated_by_id = user.id
        append_event(
            None,
            "legal_setting_changed",
            actor=user,
            data={
                "key": key,
                "value": setting.default if value is None else value,
                "default": value is None or value == setting.default,
                "previous": previous,
            },
        )
    app_settings.forget()
    return setting_state(key)
