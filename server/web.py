"""HTML blueprints of the officers', supervisors' and auditors' pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the HTML blueprints."""
