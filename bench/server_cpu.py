"""Server CPU time per request: the app as a real gunicorn server, measured from ``/proc``.

The measure of issue 20: start the app as its own server process (gunicorn with
``gunicorn.conf.py``, one worker, the threaded worker so that clients keep their connections
alive; ``DUBAN_ENV=production``, the scheduler off) over a given database; read the CPU time of
the server's whole process tree (master and workers: utime + stime of ``/proc/<pid>/stat``,
plus cutime + cstime, the time of children that exited and were reaped) before and after a
batch of requests; divide by the successful requests. The client runs in this process, so its
own CPU time is not counted. Client-side latencies (median, p95) come with it, over keep-alive
connections (``http.client``).

Every figure goes out as one JSON line (:func:`figure_line`) with its ratio to the full engine
step (``bench/engine_step.py``) measured in the same invocation; ``--json FILE`` on each script
appends the lines to a file (``make bench`` prints them together at the end).

The pure parts (``parse_stat``, ``figure_line``, ``goal_met``, ``parse_sizes``, ``sized_url``)
are tested in ``tests/unit/test_bench_figures.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# The goals (issue 20): server CPU per request against the full engine step.
COMPLETION_GOAL = 4.0  # completion over HTTP, 1 client
PAGE_GOAL = 8.0  # inbox page and case page, HTML and API
P95_OVER_MEDIAN_MAX = 2.0  # completion: p95 ≤ 2 × median
SCALE_MAX = 1.3  # pages: the big size's CPU per request ≤ 1.3 × the small size's


# --- /proc ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` a CPU reading needs (times in clock ticks)."""

    pid: int
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int

    @property
    def ticks(self) -> int:
        """The process's own CPU time and that of its reaped children."""
        return self.utime + self.stime + self.cutime + self.cstime


def parse_stat(text: str) -> ProcStat:
    """Parse one ``/proc/<pid>/stat`` line (see proc(5)).

    The command name, field 2, is in parentheses and may itself hold spaces and parentheses:
    the fields after it are counted from its last ``)``.
    """
    pid = int(text[: text.index(" ")])
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state): field n is rest[n - 3].
    return ProcStat(
        pid=pid,
        ppid=int(rest[1]),
        utime=int(rest[11]),
        stime=int(rest[12]),
        cutime=int(rest[13]),
        cstime=int(rest[14]),
    )


def read_stat(pid: int) -> ProcStat | None:
    """The stat of a live process, or ``None`` if it is gone."""
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None


def process_tree(pid: int) -> list[ProcStat]:
    """The stats of ``pid`` and all its live descendants (one scan of ``/proc``)."""
    stats: dict[int, ProcStat] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            found = read_stat(int(entry.name))
            if found is not None:
                stats[found.pid] = found
    if pid not in stats:
        return []
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(stats[current])
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of ``pid``'s process tree, exited and reaped children too.

    A reaped child's time is in its parent's cutime/cstime and nowhere else; a live one's in
    its own utime/stime only: the sum counts each once.
    """
    return sum(stat.ticks for stat in process_tree(pid)) / TICKS


# --- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * q + 0.999999) - 1))]


def goal_met(
    ratio: float,
    goal: float | None,
    errors: int = 0,
    p95_over_median: float | None = None,
    ratio_to_small: float | None = None,
) -> bool | None:
    """Whether a figure meets its goal: the ratio within ``goal``, no errors, and where given
    p95 ≤ 2 × median (the completion) and the big size within 1.3 × the small (the pages).
    ``None`` when there is no goal (throughput)."""
    if goal is None:
        return None
    return (
        errors == 0
        and ratio <= goal
        and (p95_over_median is None or p95_over_median <= P95_OVER_MEDIAN_MAX)
        and (ratio_to_small is None or ratio_to_small <= SCALE_MAX)
    )


def figure_line(
    measure: str,
    *,
    server_cpu_ms: float,
    engine_step_ms: float,
    cases: int,
    requests: int,
    database: str,
    goal: float | None,
    median_ms: float | None = None,
    p95_ms: float | None = None,
    errors: int = 0,
    p95_limit: bool = False,
    small: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One figure as the JSON object the scripts print (one line each).

    :param p95_limit: the goal includes p95 ≤ 2 × median (the completion): adds
        ``p95_over_median`` and counts it in ``met``.
    :param small: the same measure's line at the small size, when this is the big one: adds
        ``ratio_to_small`` (server CPU per request, big / small) and counts it in ``met``.
    :param extra: more fields, appended as they are.
    """
    ratio = server_cpu_ms / engine_step_ms if engine_step_ms > 0 else float("inf")
    line: dict[str, Any] = {
        "measure": measure,
        "server_cpu_ms": round(server_cpu_ms, 3),
        "engine_step_ms": round(engine_step_ms, 3),
        "ratio": round(ratio, 2),
        "cases": cases,
        "median_ms": None if median_ms is None else round(median_ms, 2),
        "p95_ms": None if p95_ms is None else round(p95_ms, 2),
        "requests": requests,
        "errors": errors,
        "database": database,
        "goal": goal,
    }
    over = None
    if p95_limit and median_ms and p95_ms is not None:
        over = p95_ms / median_ms
        line["p95_over_median"] = round(over, 2)
    to_small = None
    if small is not None and small.get("server_cpu_ms"):
        to_small = server_cpu_ms / small["server_cpu_ms"]
        line["ratio_to_small"] = round(to_small, 2)
        line["small_cases"] = small["cases"]
    line["met"] = goal_met(ratio, goal, errors, over, to_small)
    line.update(extra)
    return line


def emit(line: dict[str, Any], json_file: str | None) -> None:
    """Print ``line`` as one JSON line (greppable: ``grep '^{'``) and append it to
    ``json_file`` if given."""
    text = json.dumps(line, ensure_ascii=False)
    print(text, flush=True)
    if json_file:
        Path(json_file).parent.mkdir(parents=True, exist_ok=True)
        with open(json_file, "a", encoding="utf-8") as out:
            out.write(text + "\n")


def parse_sizes(text: str) -> list[int]:
    """``"1000,100000"`` → ``[1000, 100000]`` (underscores allowed, order kept)."""
    sizes = [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(size <= 0 for size in sizes):
        raise ValueError(f"case counts expected, e.g. 1000,100000: {text!r}")
    return sizes


def sized_url(url: str, size: int, several: bool) -> str:
    """The database of one size: ``url`` itself for a single size; with several sizes, one
    database per size beside it (SQLite ``name-1000.sqlite3``, PostgreSQL ``name_1000``)."""
    if not several:
        return url
    if url.startswith("sqlite"):
        head, _, name = url.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        return f"{head}/{stem}-{size}{'.' + suffix if suffix else ''}"
    base, _, query = url.partition("?")
    head, _, name = base.rpartition("/")
    return f"{head}/{name}_{size}" + (f"?{query}" if query else "")


def add_arguments(parser: Any) -> None:
    """The server and output options the three scripts share."""
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (1)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4, gthread)")
    parser.add_argument("--warmup", type=int, default=20, help="requests before measuring")
    parser.add_argument("--json", default=None, help="append the JSON lines to this file")


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app under gunicorn (``gunicorn.conf.py``) in its own process, as a context manager.

    One worker by default, gunicorn's threaded worker (``gthread``: keep-alive connections;
    the sync worker closes each one), ``DUBAN_ENV=production`` (SQLite allowed), the
    scheduler off. ``PAGE_SIZE`` (100) is passed to ``create_app`` so that the HTML inbox
    shows as many rows as ``GET /api/v1/inbox?per_page=100``.
    """

    def __init__(self, url: str, workers: int = 1, threads: int = 4, page_size: int = 100) -> None:
        self.url, self.workers, self.threads, self.page_size = url, workers, threads, page_size
        self.port = free_port()
        self.log = self.log_path()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def log_path() -> Path:
        """The server's log (gunicorn's error and access log): one per benchmark process."""
        return Path(tempfile.gettempdir()) / f"duban-bench-server-{os.getpid()}.log"

    @property
    def description(self) -> str:
        return f"gunicorn {self.workers} worker(s), gthread {self.threads} threads"

    def __enter__(self) -> Server:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        if gunicorn is None:
            sys.exit("gunicorn is not beside this Python: pip install -r requirements.txt")
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DUBAN_ENV": "production",
            "DUBAN_ALLOW_SQLITE": "1",
            "SECRET_KEY": secrets.token_hex(16),
            "SCHEDULER_ENABLED": "0",
            "SWEEP_SECONDS": "0",
            "LOGIN_MAX_FAILURES": "1000",
            "DUBAN_BIND": f"127.0.0.1:{self.port}",
            "DUBAN_WORKERS": str(self.workers),
            "DUBAN_THREADS": str(self.threads),
            "UPLOAD_DIR": str(Path(tempfile.gettempdir()) / "duban-bench-attachments"),
            "EXPORT_DIR": str(Path(tempfile.gettempdir()) / "duban-bench-exports"),
        }
        app = f"server:create_app({{'PAGE_SIZE': {self.page_size}}})"
        command = [gunicorn, "--config", "gunicorn.conf.py", "--worker-class", "gthread", app]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the server stopped: see {self.log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/login")
                connection.getresponse().read()
                connection.close()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        sys.exit(f"the server did not answer within 90 s: see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU seconds the server's process tree has used so far."""
        assert self.process is not None
        return tree_cpu_seconds(self.process.pid)


# --- clients -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


class Client:
    """One keep-alive HTTP connection to the server, with its own cookies and headers."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        """Send one request; a broken connection answers status 0 and is reopened."""
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body, sent)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return Answer(0, b"", {})
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, data, {k.lower(): v for k, v in response.getheaders()})

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_json(self, path: str, payload: Any) -> Answer:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def close(self) -> None:
        self.connection.close()


def api_client(port: int, username: str, password: str) -> Client:
    """A client with a bearer token of ``username`` (``POST /api/v1/tokens``)."""
    client = Client(port)
    answer = client.post_json("/api/v1/tokens", {"username": username, "password": password})
    if answer.status != 201:
        sys.exit(f"token for {username}: {answer.status} {answer.body[:200]!r}")
    client.headers["Authorization"] = "Bearer " + json.loads(answer.body)["token"]
    return client


def web_client(port: int, username: str, password: str) -> Client:
    """A client logged in through the login form (session cookie, CSRF token)."""
    client = Client(port)
    page = client.get("/login")
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.body)
    if found is None:
        sys.exit("no csrf_token on the login page")
    form = {"username": username, "password": password, "csrf_token": found.group(1).decode()}
    answer = client.request(
        "POST", "/login", urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    if answer.status not in (302, 303):
        sys.exit(f"login of {username}: {answer.status}")
    return client


# --- batches -------------------------------------------------------------------------------


@dataclass
class Batch:
    """What a batch of requests cost: the server's CPU, the latencies of the good answers."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    good: tuple[int, ...] = (200,)

    @property
    def requests(self) -> int:
        """The good answers (the ones counted)."""
        return sum(n for status, n in self.statuses.items() if status in self.good)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in self.good)

    @property
    def server_cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / max(self.requests, 1)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.latencies_ms, 0.95) if self.latencies_ms else None


Job = Callable[[Client], int]  # sends one request on the client, returns the status


def run_batch(
    server: Server,
    clients: Sequence[Client],
    jobs: Iterable[Job],
    good: tuple[int, ...] = (200,),
    warmup: Iterable[Job] = (),
) -> Batch:
    """Run ``warmup`` (not measured), then ``jobs`` spread over ``clients`` (one thread each
    when several); read the server's CPU before and after the jobs."""
    for job in warmup:
        job(clients[0])
    batch = Batch(good=good)
    pending = list(jobs)
    lock = threading.Lock()

    def work(client: Client) -> None:
        while True:
            with lock:
                if not pending:
                    return
                job = pending.pop(0)
            started = time.perf_counter()
            status = job(client)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                batch.statuses[status] += 1
                if status in good:
                    batch.latencies_ms.append(elapsed)

    time.sleep(0.05)  # let the warm-up's last request finish its tail (teardown, log)
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    if len(clients) == 1:
        work(clients[0])
    else:
        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    batch.wall_seconds = time.perf_counter() - started
    time.sleep(0.05)  # and the batch's last one
    batch.cpu_seconds = server.cpu_seconds() - cpu_before
    return batch


def get_job(path: str) -> Job:
    """A job that GETs ``path``."""
    return lambda client: client.get(path).status


def load_average() -> float:
    return round(os.getloadavg()[0], 2)
