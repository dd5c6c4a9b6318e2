"""Duban's Flask app: ``create_app(config=None)`` builds it; ``flask --app server run`` serves."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in URLs: at most the largest database integer (PostgreSQL's ``integer``
    overflows above 2**31 - 1; a larger id in a URL is simply not found)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app.

    :param config: overrides of the environment-derived configuration (tests pass
        ``SQLALCHEMY_DATABASE_URI``, ``TESTING`` and the like).
    """
    from server.parsing import DepthLimitedJSONProvider

    app = Flask(__name__, instance_relative_config=True)
    app.json = DepthLimitedJSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from server.config import from_environment, production_problems

    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    problems = production_problems(app.config)
    if problems:
        raise RuntimeError("; ".join(problems))
    if (
        app.config["DUBAN_ENV"] == "production"
        or app.config.get("DUBAN_HTTPS")
        or app.config.get("PREFERRED_URL_SCHEME") == "https"
    ):
        # Served over HTTPS: the session (and a remember-me) cookie never travels in clear.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    from server import database
    from server.engine import init_engine
    from server.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    database.init_app(app)
    from server import mail

    mail.init_app()
    init_engine(app)

    from server import audit

    audit.init_app(app)

    from server import auth, cli, security, web

    security.init_app(app)
    from server.api import bp as api_bp

    auth.init_app(app)
    web.init_app(app)
    app.register_blueprint(api_bp)
    cli.init_app(app)

    from server import scheduler

    scheduler.init_app(app)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("spiff").setLevel(logging.WARNING)
    return app
