"""``flask --app server …`` commands."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import inspect, make_url, select, text
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db
from server.models import User
from workflows import fire_grading, gb35181
from workflows.deadlines import compute_deadline


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


INIT_DB = "flask --app server init-db"
F = TypeVar("F", bound=Callable[..., Any])


def database_problem() -> str | None:
    """Why the commands cannot use the database (not reachable, not initialised, an older
    schema), or None when its schema is at the migrations' head."""
    from server.backup import migration_heads

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    shown = url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            current: set[str] = set()
            if inspect(connection).has_table("alembic_version"):
                current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as exc:
        return f"无法连接数据库 {shown}：{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if not current:
        return f"数据库 {shown} 尚未初始化。请先运行 {INIT_DB} 建立数据库结构。"
    if current != migration_heads():
        return (
            f"数据库 {shown} 的结构版本（{', '.join(sorted(current))}）不是当前程序的版本。"
            f"请先运行 {INIT_DB} 升级数据库结构。"
        )
    return None


def needs_database(command: F) -> F:
    """Refuse to run ``command`` (exit 1, a message naming ``init-db``) when
    :func:`database_problem` finds one, instead of failing with a traceback halfway."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        problem = database_problem()
        if problem:
            raise click.ClickException(problem)
        return command(*args, **kwargs)

    return checked  # type: ignore[return-value]


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema through the migrations."""
    upgrade()
    click.echo(f"数据库已就绪：{current_app.config['SQLALCHEMY_DATABASE_URI']}")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="do nothing when users already exist")
@needs_database
def seed_demo(if_empty: bool) -> None:
    """Create Changde's agencies, demo users of every role and demo cases."""
    if current_app.config["DUBAN_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run in production (DUBAN_ENV=production)")
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("演示数据已存在，跳过。")
        return
    from server.demo import seed

    summary = seed(current_app.config["DEMO_PASSWORD"])
    click.echo(
        f"已创建 {summary['agencies']} 个机构、{summary['users']} 个用户、"
        f"{summary['cases']} 个演示案件。"
    )
    click.echo("登录地址：http://127.0.0.1:5000/login （密码见 DEMO_PASSWORD，默认 changde-demo）")
    for username, role in summary["logins"]:
        click.echo(f"  {username:28} {role}")


users = AppGroup("users", help="List, create, deactivate users and reset passwords.")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@needs_database
def users_list(as_json: bool) -> None:
    """List users with agency, kind, district and roles."""
    rows = [
        {
            "username": u.username,
            "name": u.name,
            "agency": u.agency.code,
            "agency_name": u.agency.name,
            "kind": u.agency.kind,
            "district": u.agency.division,
            "roles": u.role_list,
            "active": u.active,
        }
        for u in db.session.scalars(select(User).order_by(User.id))
    ]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        roles = ",".join(cast(list[str], row["roles"]))
        click.echo(f"{row['username']:28} {row['agency_name']:24} {roles}")


@users.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option(
    "--agency", "agency_code", required=True, help="agency code, e.g. fire_brigade:wuling"
)
@click.option("--roles", required=True, help="comma-separated: officer,supervisor,auditor,admin")
@click.password_option()
@needs_database
def users_create(username: str, name: str, agency_code: str, roles: str, password: str) -> None:
    """Create a user (audited, as the administrators' page does)."""
    from server.admin import directory_admin
    from server.operations import OperationError

    data = {
        "username": username,
        "name": name,
        "agency": agency_code,
        "roles": roles,
        "password": password,
    }
    try:
        directory_admin.create_user(None, data)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已创建用户 {username}")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    return user


@users.command("set-password")
@click.argument("username")
@click.password_option()
@needs_database
def users_set_password(username: str, password: str) -> None:
    """Reset USERNAME's password: every session and API token of the user ends."""
    from server.admin import directory_admin
    from server.operations import OperationError

    try:
        _generated, revoked = directory_admin.reset_password(None, _user(username), password)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已重设 {username} 的密码；其所有登录已退出，{revoked} 个 API 令牌已作废")


@users.command("deactivate")
@click.argument("username")
@needs_database
def users_deactivate(username: str) -> None:
    """Deactivate USERNAME: the user can no longer log in; every session and token ends."""
    from server.admin import directory_admin
    from server.operations import OperationError

    try:
        revoked = directory_admin.set_active(None, _user(username), False)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已停用用户 {username}；其所有登录已退出，{revoked} 个 API 令牌已作废")


@users.command("reactivate")
@click.argument("username")
@needs_database
def users_reactivate(username: str) -> None:
    """Let a deactivated USERNAME log in again (with the password they had)."""
    from server.admin import directory_admin

    directory_admin.set_active(None, _user(username), True)
    click.echo(f"已重新启用用户 {username}")


@users.command("set-email")
@click.argument("username")
@click.argument("address", required=False)
@click.option("--off", is_flag=True, help="keep the address, stop sending messages by e-mail")
@click.option("--clear", is_flag=True, help="remove the address (e-mail off)")
@needs_database
def users_set_email(username: str, address: str | None, off: bool, clear: bool) -> None:
    """Set USERNAME's e-mail ADDRESS and send the user's messages there (server/mail.py)."""
    from server.mail import set_mail_preferences

    user = _user(username)
    if clear:
        address, enabled = None, False
    elif address is None:
        if not off:
            raise click.ClickException("请给出电子邮箱地址，或使用 --off / --clear")
        address, enabled = user.email, False
    else:
        enabled = not off
    errors = set_mail_preferences(user, address, enabled)
    if errors:
        raise click.ClickException(errors["email"])
    db.session.commit()
    if user.email is None:
        click.echo(f"已删除 {username} 的电子邮箱地址，不再以邮件发送消息")
    elif user.mail_enabled:
        click.echo(f"{username} 的消息将发送到 {user.email}")
    else:
        click.echo(f"{username} 的电子邮箱地址为 {user.email}，不以邮件发送消息")


mail_group = AppGroup("mail", help="E-mail delivery of messages (docs/mail.md).")


@mail_group.command("send-pending")
@needs_database
def mail_send_pending() -> None:
    """Send the queued messages that are due (what the scheduler does every minute)."""
    from server.mail import mail_configured, send_pending

    if not mail_configured():
        raise click.ClickException("未配置邮件服务器（MAIL_SERVER），不发送邮件")
    _echo_json(send_pending())


@mail_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@needs_database
def mail_status(as_json: bool) -> None:
    """Queued, sent and failed messages; the failed ones with their last error."""
    from server.mail import status

    summary = status()
    if as_json:
        _echo_json(summary)
        return
    click.echo(
        f"邮件发送：{'已开启' if summary['enabled'] else '未开启（未设置 MAIL_SERVER）'}；"
        f"待发送 {summary['pending']}（其中重试中 {summary['retrying']}），"
        f"已发送 {summary['sent']}，发送失败 {summary['failed']}"
    )
    for row in summary["failed_messages"]:
        click.echo(
            f"  失败 #{row['id']} {row['username']} <{row['recipient']}> "
            f"{row['title']}：尝试 {row['attempts']} 次，最后错误：{row['last_error']}"
        )


@mail_group.command("retry-failed")
@needs_database
def mail_retry_failed() -> None:
    """Queue the failed messages again (after the mail server has been fixed)."""
    from server.mail import retry_failed

    click.echo(f"已将 {retry_failed()} 封发送失败的邮件重新加入发送队列")


agencies_group = AppGroup("agencies", help="Agencies' administrator data.")


@agencies_group.command("doc-code")
@click.argument("code")
@click.argument("value", required=False)
@click.option("--reset", is_flag=True, help="Go back to the code derived from the name.")
@needs_database
def agencies_doc_code(code: str, value: str | None, reset: bool) -> None:
    """Show or set the 机关代字 of agency CODE's document numbers (e.g. 武消)."""
    from server.admin import directory_admin
    from server.documents import agency_short
    from server.operations import OperationError

    try:
        agency = directory_admin.agency_by_code(code)
        if not reset and value is not None and not value.strip():
            raise click.ClickException("机关代字应为1至40个字符，且不含花括号")
        if reset or value is not None:
            directory_admin.update_agency(None, agency, {"doc_code": None if reset else value})
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    source = "管理员设定" if agency.doc_code else "按单位名称生成"
    click.echo(f"{agency.name}（{code}）的机关代字：{agency_short(agency)}（{source}）")


@agencies_group.command("numbering")
@click.argument("code")
@click.argument("kind")
@click.argument("pattern", required=False)
@click.option("--reset", is_flag=True, help="Go back to the template's pattern.")
@needs_database
def agencies_numbering(code: str, kind: str, pattern: str | None, reset: bool) -> None:
    """Show or set agency CODE's own numbering pattern of document KIND (its counter's), e.g.
    '{agency_short}隐改字〔{year}〕第{seq:04d}号'."""
    from server.admin import directory_admin
    from server.operations import OperationError

    try:
        agency = directory_admin.agency_by_code(code)
        template = directory_admin.numbering_template(kind)
        if reset or pattern is not None:
            directory_admin.set_numbering(None, agency, kind, None if reset else pattern)
        shown = directory_admin.numbering_json(agency, template)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    source = "本单位设定" if shown["pattern"] else "模板格式"
    click.echo(
        f"{agency.name}（{code}）《{shown['name']}》（{shown['kind']}）的文号格式："
        f"{shown['pattern_in_use']}（{source}），如 {shown['example']}"
    )


@click.command("deadline")
@with_appcontext
@click.argument("start")
@click.argument("n", type=int)
@click.option("--calendar-days", is_flag=True, help="count calendar days instead of working days")
@needs_database
def deadline(start: str, n: int, calendar_days: bool) -> None:
    """Print the due datetime N working (or calendar) days after START."""
    from server.engine import get_engine

    try:
        result = compute_deadline(
            start, n, calendar_days=calendar_days, calendar=get_engine().calendar
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_json(result)


@click.command("judge-hazard", context_settings={"ignore_unknown_options": True})
@with_appcontext
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def judge_hazard(args: tuple[str, ...]) -> None:
    """Print the GB 35181 verdict: --category crowded --elements 6.5,7.3.1 [--exclusion b]."""
    sys.exit(gb35181.main(list(args)))


@click.command("grade-fire", context_settings={"ignore_unknown_options": True})
@with_appcontext
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@needs_database
def grade_fire(args: tuple[str, ...]) -> None:
    """Print the fire decisions as JSON: --deaths N --serious-injuries N --minor-injuries N
    --direct-loss YUAN --households N --site SITE [--disputed] [--arson-suspected]
    [--major-social-impact] [--on DATE].

    Applies the legal settings in force (the administrator's values over the defaults) and the
    working-day calendar with the administrator's years, as a case registered now would.
    """
    from server.admin.legal_settings import effective_settings
    from server.engine import get_engine

    sys.exit(
        fire_grading.main(list(args), settings=effective_settings(), calendar=get_engine().calendar)
    )


@click.command("sweep")
@with_appcontext
@needs_database
def sweep_command() -> None:
    """Fire every due timer once (what the scheduler does every minute)."""
    from server.sweep import sweep

    _echo_json(sweep())


calendar_group = AppGroup("calendar", help="Holiday calendar years.")


@calendar_group.command("import")
@click.argument("year", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@needs_database
def calendar_import(year: int, file: str) -> None:
    """Enter YEAR's holidays and make-up working days from FILE and recompute the provisional
    deadlines. FILE is JSON: {"holidays": ["2027-01-01", ...], "workdays": [...]}."""
    from server.operations import OperationError, save_calendar_year

    if not 2000 <= year <= 2100:
        raise click.ClickException("年份应在2000年至2100年之间")
    try:
        with open(file, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"无法读取 {file}：{exc}") from exc
    if not isinstance(data, dict):
        raise click.ClickException('文件内容应为 {"holidays": [...], "workdays": [...]}')
    candidates = db.session.scalars(
        select(User).where(User.roles.contains("admin"), User.active.is_(True)).order_by(User.id)
    )
    admin = next((u for u in candidates if u.has_role("admin")), None)
    if admin is None:
        raise click.ClickException("没有管理员用户，无法导入（请先创建一个 admin 用户）")
    try:
        result = save_calendar_year(admin, year, data)
    except OperationError as exc:
        raise click.ClickException(f"日历数据有误：{exc.message}") from exc
    from server.engine import get_engine

    summary = get_engine().calendar.year_summary(year)
    click.echo(
        f"已导入{year}年节假日安排（节假日{len(summary['holidays'])}天，"  # type: ignore[arg-type]
        f"调休上班{len(summary['workdays'])}天，操作人 {admin.username}）；"  # type: ignore[arg-type]
        f"重新计算了{result['cases']}个案件的{result['deadlines']}个期限。"
    )


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (init_db, seed_demo, users, deadline, judge_hazard, grade_fire, sweep_command):
        app.cli.add_command(command)
    app.cli.add_command(calendar_group)
    app.cli.add_command(agencies_group)
    app.cli.add_command(mail_group)
    for command in (dossier_command, audit_group, backup_command, restore_command):
        app.cli.add_command(command)
    from server.cli_reports import report_group  # it imports this module: registered here

    app.cli.add_command(report_group)


# --- dossiers and the audit chain ---------------------------------------------------------------


def _find_case(ref: str):
    """A case by 督办编号 (DB2026-000017), 立案编号 or numeric id."""
    from server.models import Case
    from server.parsing import positive_int

    ref = ref.strip()
    query = select(Case).where((Case.number == ref) | (Case.case_no == ref))
    with contextlib.suppress(ValueError):  # a numeric id
        query = select(Case).where(Case.id == positive_int(ref, 2**31 - 1))
    case = db.session.scalar(query.limit(1))
    if case is None:
        raise click.ClickException(f"没有案件 {ref}")
    return case


def _printing_user(username: str | None) -> User:
    """The user a command prints as: ``username``, else the first administrator or auditor."""
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise click.ClickException(f"没有可用的用户 {username}")
        return user
    candidates = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    user = next((u for u in candidates if u.has_role("admin") or u.has_role("auditor")), None)
    if user is None:
        raise click.ClickException("没有管理员或审计/督查用户，请用 --user 指定打印人")
    return user


@click.command("dossier")
@with_appcontext
@click.argument("case")
@click.option("-o", "--output", required=True, help="the PDF file to write (- for stdout)")
@click.option("--user", "username", help="print as this user (default: first admin/auditor)")
@needs_database
def dossier_command(case: str, output: str, username: str | None) -> None:
    """Print the dossier of CASE (DB2026-000017, a 立案编号 or the numeric id) to a PDF.

    The audit chain is verified while printing, and the printing is recorded as an audit event.
    """
    from pathlib import Path

    from server.dossier import print_dossier
    from server.operations import OperationError

    found = _find_case(case)
    user = _printing_user(username)
    try:
        printed = print_dossier(user, found)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    if output == "-":
        sys.stdout.buffer.write(printed.pdf)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(printed.pdf)
    check = printed.check
    result = "通过" if check.ok else "未通过"
    to_stderr = output == "-"  # stdout carries the PDF
    click.echo(
        f"已生成案卷 {printed.number}（{printed.pages} 页，打印人 {user.username}）"
        + ("" if to_stderr else f"：{output}"),
        err=to_stderr,
    )
    click.echo(f"审计链校验：{result}（{check.events} 个事件，链头哈希 {check.head}）",
               err=to_stderr)  # fmt: skip
    for problem in check.problems:
        click.echo(f"  {problem}", err=to_stderr)


audit_group = AppGroup("audit", help="Verify the audit chains.")


@audit_group.command("verify")
@click.argument("case", required=False)
@click.option(
    "--files/--no-files",
    default=None,
    help="re-hash the attachment files too (default: yes for one CASE, no for every case)",
)
@needs_database
def audit_verify(case: str | None, files: bool | None) -> None:
    """Verify the hash chain of CASE, or of every case and the system events.

    Each case's facts (unit, address, status, completed tasks, attachments…) are compared with
    what its events say, and the system chain with its stored head. Prints OK or FAILED per
    chain with its head hash and problems; exits 1 if any chain fails.
    """
    from server.audit import verify_all, verify_chain
    from server.models import Case

    if case:
        checks = [verify_chain(_find_case(case).id, files=files is not False)]
    else:
        checks = verify_all(files=bool(files))
    checks.sort(key=lambda c: (c.case_id is not None, c.case_id or 0))
    ids = [c.case_id for c in checks if c.case_id is not None]
    numbers = dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())
    failed = 0
    for check in checks:
        label = "系统" if check.case_id is None else numbers.get(check.case_id, str(check.case_id))
        failed += not check.ok
        click.echo(
            f"{label}\t{'OK' if check.ok else 'FAILED'}\t{check.events} events\thead {check.head}"
        )
        chain = "系统事件链" if check.case_id is None else f"案件 {label}"
        for problem in check.problems:
            click.echo(f"\t{chain}：{problem}")
    click.echo(f"{len(checks)} chains verified, {failed} failed")
    if failed:
        sys.exit(1)


# --- backups ------------------------------------------------------------------------------------


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
def backup_command(file: str) -> None:
    """Back the database up into FILE while the app may be running.

    SQLite: an online copy (SQLite's backup API). PostgreSQL: ``pg_dump -Fc`` into FILE when
    pg_dump is installed, else the exact command is printed (exit 1).
    """
    from pathlib import Path

    from server import backup

    url = backup.database_url()
    target = Path(file)
    try:
        if url.get_backend_name() == "sqlite":
            backup.backup_sqlite(backup.sqlite_path(url), target)
            check = backup.check_sqlite_backup(target, backup.migration_heads())
            click.echo(
                f"已备份到 {target}（{target.stat().st_size} 字节，迁移版本 {check.revision}，"
                f"{check.cases} 个案件，{check.events} 个审计事件）"
            )
            return
        if url.get_backend_name() != "postgresql":
            raise click.ClickException(f"不支持备份 {url.get_backend_name()} 数据库")
        command = backup.pg_dump_command(url, target)
        if not backup.run_tool(command):
            click.echo("未找到 pg_dump。请在装有 PostgreSQL 客户端的机器上运行：", err=True)
            click.echo(backup.shown(command, url))
            sys.exit(1)
        click.echo(f"已用 pg_dump 备份到 {target}（{target.stat().st_size} 字节）")
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="overwrite the current database")
def restore_command(file: str, yes: bool) -> None:
    """Restore the database from FILE (made by ``backup``), then verify the audit chains.

    Refuses to overwrite a database that holds tables unless --yes is given. SQLite: FILE must
    be a sound Duban database at the current migration head. PostgreSQL: ``pg_restore`` (or the
    exact command printed when it is missing). Exits 1 when an audit chain fails afterwards.
    """
    from pathlib import Path

    from server import backup

    url = backup.database_url()
    source = Path(file)
    try:
        heads = backup.migration_heads()
        if url.get_backend_name() == "sqlite":
            target = backup.sqlite_path(url)
            check = backup.check_sqlite_backup(source, heads)
            if backup.sqlite_has_data(target) and not yes:
                raise click.ClickException(
                    f"当前数据库 {target} 已有数据，恢复会覆盖它。确认覆盖请加 --yes"
                )
            backup.restore_sqlite(source, target)
            click.echo(
                f"已从 {source} 恢复到 {target}（迁移版本 {check.revision}，{check.cases} 个案件，"
                f"{check.events} 个审计事件）"
            )
        elif url.get_backend_name() == "postgresql":
            if not source.is_file():
                raise backup.BackupError(f"备份文件不存在：{source}")
            if not yes:
                raise click.ClickException(
                    "恢复会覆盖当前 PostgreSQL 数据库中的全部数据。确认覆盖请加 --yes"
                )
            db.session.remove()
            db.engine.dispose()
            command = backup.pg_restore_command(url, source)
            if not backup.run_tool(command):
                click.echo("未找到 pg_restore。请在装有 PostgreSQL 客户端的机器上运行：", err=True)
                click.echo(backup.shown(command, url))
                sys.exit(1)
            revisions = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
            if revisions != heads:
                raise backup.BackupError(
                    f"恢复后的数据库版本（{', '.join(sorted(revisions))}）与当前程序的迁移版本"
                    f"（{', '.join(sorted(heads))}）不一致：请运行 flask --app server init-db"
                )
            click.echo(f"已用 pg_restore 从 {source} 恢复")
        else:
            raise click.ClickException(f"不支持恢复 {url.get_backend_name()} 数据库")
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("校验审计链：")
    ctx = click.get_current_context()
    ctx.invoke(audit_verify, case=None, files=None)
