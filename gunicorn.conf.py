"""gunicorn's settings for `make serve` (production): several worker processes, one app each.

Environment: ``DUBAN_BIND`` (default ``127.0.0.1:8000``; several addresses separated by commas),
``DUBAN_WORKERS`` (worker processes, default 4), ``DUBAN_THREADS`` (threads per worker, default
1; more switches gunicorn to its threaded worker), ``DUBAN_TIMEOUT`` (seconds a request may
take before its worker is restarted, default 120: a large dossier takes a while). The app's own
settings (``DATABASE_URL``, ``SECRET_KEY``, ``SCHEDULER_ENABLED`` …) are read by
``server.config`` in every worker.
"""

from __future__ import annotations

import os

wsgi_app = "server:create_app()"
bind = [address.strip() for address in os.environ.get("DUBAN_BIND", "127.0.0.1:8000").split(",")]
workers = int(os.environ.get("DUBAN_WORKERS", "4"))
threads = int(os.environ.get("DUBAN_THREADS", "1"))
timeout = int(os.environ.get("DUBAN_TIMEOUT", "120"))
graceful_timeout = 30
# Each worker builds its app after the fork: its own database pool (connections must not be
# shared across a fork) and its own sweep timer thread (threads do not survive a fork). The
# sweeps of all workers and servers take turns through one database lock (server/sweep.py).
preload_app = False
# gunicorn's runtime control socket sits at one fixed path per user: two servers on one machine
# would fight over it, and nothing here needs it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"


def worker_exit(server, worker) -> None:
    """Stop the worker's sweep timer so that a recycled worker leaves no sweep half-started."""
    app = getattr(worker, "wsgi", None)
    scheduler = getattr(app, "extensions", {}).get("duban_scheduler")
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)
