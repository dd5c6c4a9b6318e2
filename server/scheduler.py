"""The timer sweep on an APScheduler interval (``SWEEP_SECONDS``; 0 or TESTING: off), and
beside it the e-mail sender (``MAIL_SEND_SECONDS``, when ``MAIL_SERVER`` is set: server/mail.py).

Every app process with ``SCHEDULER_ENABLED=1`` — each gunicorn worker of each server — runs
this timer; at each tick :func:`server.sweep.scheduled_sweep` sweeps only if no other process
is sweeping (one database lock for all of them), so the sweeps take turns instead of racing
over the same due cases, and a worker or server that stops leaves the others sweeping.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Start the sweep job and the mail sender when configured (``SCHEDULER_ENABLED``, not
    testing; ``SWEEP_SECONDS`` resp. ``MAIL_SERVER`` and ``MAIL_SEND_SECONDS`` not 0)."""
    seconds = app.config.get("SWEEP_SECONDS", 60)
    mail_seconds = app.config.get("MAIL_SEND_SECONDS", 60) if app.config.get("MAIL_SERVER") else 0
    if app.testing or not app.config.get("SCHEDULER_ENABLED", False):
        return
    if not seconds and not mail_seconds:
        return
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")

    def job() -> None:
        from server.sweep import scheduled_sweep

        with app.app_context():
            summary = scheduled_sweep()
            if summary and summary["cases"]:
                log.info("sweep: %s", summary)

    if seconds:
        scheduler.add_job(job, "interval", seconds=seconds, id="duban-sweep", max_instances=1,
                          coalesce=True)  # fmt: skip
    if seconds:

        def report_job() -> None:
            from server.report_cases import generate_due

            with app.app_context():
                counts = generate_due()
                if any(counts.values()):
                    log.info("reports generated: %s", counts)

        # The reports' drafts (server/report_cases.py): on the 1st the previous month's, from the
        # annual draft date the year's; idempotent, so every worker may run it (an hourly tick
        # finds nothing to do but on those days; a race is settled by the unique report row).
        scheduler.add_job(report_job, "interval", hours=1, id="duban-reports", max_instances=1,
                          coalesce=True, next_run_time=datetime.now(UTC))  # fmt: skip
    if mail_seconds:

        def mail_job() -> None:
            from server.mail import send_pending

            with app.app_context():
                counts = send_pending()
                if any(counts.values()):
                    log.info("mail: %s", counts)

        # Every worker's sender runs; the per-message leases keep them from sending twice.
        scheduler.add_job(mail_job, "interval", seconds=mail_seconds, id="duban-mail",
                          max_instances=1, coalesce=True)  # fmt: skip
    scheduler.start()
    app.extensions["duban_scheduler"] = scheduler
