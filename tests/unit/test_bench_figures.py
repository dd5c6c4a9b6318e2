"""The pure parts of the server CPU benchmark (``bench/server_cpu.py``, issue 20): reading CPU
time from ``/proc``, the JSON line of a figure and whether it meets its goal."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "bench" / "server_cpu.py"
spec = importlib.util.spec_from_file_location("bench_server_cpu", PATH)
assert spec is not None and spec.loader is not None
server_cpu = importlib.util.module_from_spec(spec)
sys.modules["bench_server_cpu"] = server_cpu
spec.loader.exec_module(server_cpu)

linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def burn(seconds: float) -> None:
    """Spend about ``seconds`` of CPU time in this thread."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_parse_stat_counts_fields_after_the_command_name_with_spaces_and_parentheses():
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime …
    line = "4242 (gunicorn: (worker) x) S 4200 4200 4200 0 -1 4194560 10 0 0 0 37 5 120 8 20 0"
    stat = server_cpu.parse_stat(line)
    assert (stat.pid, stat.ppid) == (4242, 4200)
    assert (stat.utime, stat.stime, stat.cutime, stat.cstime) == (37, 5, 120, 8)
    assert stat.ticks == 170


@linux
def test_reading_proc_of_this_process_follows_its_cpu_time():
    before = server_cpu.read_stat(os.getpid())
    assert before is not None and before.ppid == os.getppid()
    burn(0.15)
    after = server_cpu.read_stat(os.getpid())
    spent = (after.utime + after.stime - before.utime - before.stime) / server_cpu.TICKS
    assert 0.1 <= spent <= 1.0
    times = os.times()
    own = (after.utime + after.stime) / server_cpu.TICKS
    assert own == pytest.approx(times.user + times.system, abs=0.05)


@linux
def test_the_tree_counts_a_live_child_and_then_the_same_child_once_reaped():
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import time\nend = time.process_time() + 0.3\n"
         "while time.process_time() < end: pass\ninput()"],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    try:
        start = server_cpu.tree_cpu_seconds(os.getpid())
        deadline = time.monotonic() + 20
        live = start
        while time.monotonic() < deadline:
            found = server_cpu.read_stat(child.pid)
            if found is not None and found.utime + found.stime >= 0.3 * server_cpu.TICKS - 1:
                live = server_cpu.tree_cpu_seconds(os.getpid())
                break
            time.sleep(0.05)
        pids = {stat.pid for stat in server_cpu.process_tree(os.getpid())}
        assert child.pid in pids
    finally:
        child.communicate(b"\n", timeout=20)
    reaped = server_cpu.tree_cpu_seconds(os.getpid())
    assert live - start >= 0.2  # the live child's own time
    assert reaped == pytest.approx(live, abs=0.1)  # now in our cutime: counted once
    assert server_cpu.process_tree(2**22 + 7) == []  # no such process


def test_a_figure_line_carries_its_ratio_and_whether_it_meets_its_goal():
    line = server_cpu.figure_line(
        "case page (API)",
        server_cpu_ms=6.0,
        engine_step_ms=1.0,
        cases=1000,
        requests=50,
        median_ms=6.5,
        p95_ms=7.25,
        database="sqlite",
        goal=8.0,
        rows=None,
    )
    assert line["ratio"] == 6.0 and line["met"] is True
    text = json.dumps(line)
    assert text.startswith("{") and "\n" not in text
    for key in ("measure", "server_cpu_ms", "engine_step_ms", "ratio", "cases", "median_ms",
                "p95_ms", "requests", "database", "goal", "met"):  # fmt: skip
        assert key in line
    assert server_cpu.figure_line(
        "case page (API)", server_cpu_ms=9.0, engine_step_ms=1.0, cases=1, requests=1,
        database="sqlite", goal=8.0,
    )["met"] is False  # fmt: skip


def test_the_completion_goal_counts_p95_over_median_and_errors():
    common = {"engine_step_ms": 1.0, "cases": 2000, "requests": 100, "database": "postgresql"}
    steady = server_cpu.figure_line(
        "completion over HTTP", server_cpu_ms=3.5, median_ms=4.0, p95_ms=7.9, goal=4.0,
        p95_limit=True, **common,
    )  # fmt: skip
    assert steady["p95_over_median"] == 1.98 and steady["met"] is True
    jumpy = server_cpu.figure_line(
        "completion over HTTP", server_cpu_ms=3.5, median_ms=4.0, p95_ms=8.4, goal=4.0,
        p95_limit=True, **common,
    )  # fmt: skip
    assert jumpy["met"] is False
    failing = server_cpu.figure_line(
        "completion over HTTP", server_cpu_ms=3.5, median_ms=4.0, p95_ms=4.4, goal=4.0,
        p95_limit=True, errors=1, **common,
    )  # fmt: skip
    assert failing["errors"] == 1 and failing["met"] is False


def test_the_big_size_is_compared_with_the_small_one():
    small = server_cpu.figure_line(
        "inbox page (API)", server_cpu_ms=5.0, engine_step_ms=1.0, cases=1000, requests=200,
        database="sqlite", goal=8.0,
    )  # fmt: skip
    big = dict(server_cpu_ms=7.0, engine_step_ms=1.0, cases=100_000, requests=200,
               database="sqlite", goal=8.0)  # fmt: skip
    line = server_cpu.figure_line("inbox page (API)", small=small, **big)
    assert line["ratio_to_small"] == 1.4 and line["small_cases"] == 1000
    assert line["ratio"] == 7.0 and line["met"] is False  # within 8 ×, but 1.4 × the small
    assert server_cpu.figure_line("inbox page (API)", small=small, **{**big, "server_cpu_ms": 6.4})[
        "met"
    ] is True  # fmt: skip


def test_throughput_has_no_goal():
    line = server_cpu.figure_line(
        "completions per second, 4 clients", server_cpu_ms=10.0, engine_step_ms=1.0, cases=1,
        requests=1, database="sqlite", goal=None, completions_per_second=80.0,
    )  # fmt: skip
    assert line["goal"] is None and line["met"] is None
    assert line["completions_per_second"] == 80.0
    assert server_cpu.goal_met(2.0, None) is None
    assert server_cpu.goal_met(4.0, 4.0) is True
    assert server_cpu.goal_met(4.01, 4.0) is False


def test_sizes_and_their_databases():
    assert server_cpu.parse_sizes("100_000, 1000") == [100_000, 1000]
    with pytest.raises(ValueError):
        server_cpu.parse_sizes("0")
    url = "sqlite:////tmp/bench/bench.sqlite3"
    assert server_cpu.sized_url(url, 1000, several=False) == url
    assert (
        server_cpu.sized_url(url, 1000, several=True) == "sqlite:////tmp/bench/bench-1000.sqlite3"
    )
    pg = "postgresql+psycopg://postgres@127.0.0.1:55432/bench20"
    assert server_cpu.sized_url(pg, 100_000, True) == pg + "_100000"
    assert server_cpu.sized_url(pg + "?sslmode=disable", 5, True) == pg + "_5?sslmode=disable"


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))
    assert server_cpu.percentile(values, 0.95) == 95
    assert server_cpu.percentile([3.0], 0.95) == 3.0
    assert server_cpu.percentile([4.0, 1.0, 2.0, 3.0], 0.5) == 2.0
