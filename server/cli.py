"""``flask --app server …`` commands."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from server.extensions import db
from server.models import User
from workflows import gb35181
from workflows.deadlines import compute_deadline


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema through the migrations."""
    upgrade()
    click.echo(f"数据库已就绪：{current_app.config['SQLALCHEMY_DATABASE_URI']}")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="do nothing when users already exist")
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


users = AppGroup("users", help="List and create users.")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
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
        click.echo(f"{row['username']:28} {row['agency_name']:24} {','.join(row['roles'])}")


@users.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option(
    "--agency", "agency_code", required=True, help="agency code, e.g. fire_brigade:wuling"
)
@click.option("--roles", required=True, help="comma-separated: officer,supervisor,auditor,admin")
@click.password_option()
def users_create(username: str, name: str, agency_code: str, roles: str, password: str) -> None:
    """Create a user."""
    from server.directory import create_user

    try:
        create_user(username, name, agency_code, roles, password)
        db.session.commit()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建用户 {username}")


@click.command("deadline")
@with_appcontext
@click.argument("start")
@click.argument("n", type=int)
@click.option("--calendar-days", is_flag=True, help="count calendar days instead of working days")
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


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Fire every due timer once (what the scheduler does every minute)."""
    from server.sweep import sweep

    _echo_json(sweep())


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (init_db, seed_demo, users, deadline, judge_hazard, sweep_command):
        app.cli.add_command(command)
