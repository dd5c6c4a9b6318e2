"""Benchmark one engine step on the major-hazard process, against bare SpiffWorkflow.

Duban's step is what a request does: deserialize the stored state → complete one task →
engine steps → extract deadlines → serialize. The bare step is the same completion and engine
steps on a SpiffWorkflow workflow already in memory. Prints medians, the ratio, and the stored
state size at the longest wait state.

    .venv/bin/python bench/engine_step.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.driver import CASE, at
from tests.support.major_hazard import LISTED_PATH, sample
from workflows.catalog import ProcessCatalog
from workflows.engine import Engine

# The path to the step measured: the government decides on a listed-supervision report.
PATH = LISTED_PATH[:6]
STEP = LISTED_PATH[6]
LONGEST = LISTED_PATH[6:-1]  # to the longest wait state: close_case


def advance(instance, steps, clock):
    for name, day, overrides in steps:
        clock.move_to(at(day))
        ready = {t.name: t.id for t in instance.ready_tasks()}
        instance.complete(ready[name], sample(name, day, **overrides))


def measure(rounds: int = 300) -> dict[str, float]:
    """Time ``rounds`` Duban steps and bare SpiffWorkflow steps.

    :returns: medians and p95s in ms (``duban_ms``, ``bare_ms``, ``duban_p95_ms``,
        ``bare_p95_ms``), the median CPU time of the Duban step (``duban_cpu_ms``, this
        thread's CPU time: the denominator of the server CPU ratios, issue 20) and the stored
        state sizes in bytes (``state``, ``longest_state``).
    """
    engine = Engine(ProcessCatalog())
    with time_machine.travel(at(date(2026, 9, 24)), tick=False) as clock:
        instance = engine.start("major_hazard", CASE)
        advance(instance, PATH, clock)
        state = instance.dumps()
        version = instance.version
        name, day, overrides = STEP
        clock.move_to(at(day))
        data = sample(name, day, **overrides)

        duban, bare, duban_cpu = [], [], []
        # Bare workflows are prepared outside the timing, one per round.
        prepared = [engine.load("major_hazard", version, state).workflow for _ in range(rounds)]
        for round_ in range(rounds):
            t0, c0 = time.perf_counter(), time.thread_time()
            case = engine.load("major_hazard", version, state)
            task = next(t for t in case.ready_tasks() if t.name == name)
            case.complete(task.id, data)
            case.waiting_timers()
            case.next_timer_at()
            case.dumps()
            duban.append(time.perf_counter() - t0)
            duban_cpu.append(time.thread_time() - c0)

            workflow = prepared[round_]
            t0 = time.perf_counter()
            task = next(t for t in workflow.get_tasks(manual=True) if t.task_spec.name == name
                        and t.state == 16)  # fmt: skip
            task.data[name] = dict(data)
            task.run()
            workflow.do_engine_steps()
            bare.append(time.perf_counter() - t0)

        longest = engine.load("major_hazard", version, state)
        advance(longest, LONGEST, clock)
        longest_state = longest.dumps()

    duban.sort()
    bare.sort()
    p95 = max(0, int(len(duban) * 0.95 + 0.999999) - 1)
    return {
        "duban_ms": statistics.median(duban) * 1000,
        "duban_cpu_ms": statistics.median(duban_cpu) * 1000,
        "bare_ms": statistics.median(bare) * 1000,
        "duban_p95_ms": duban[p95] * 1000,
        "bare_p95_ms": bare[p95] * 1000,
        "state": len(state),
        "longest_state": len(longest_state),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    figures = measure(args.rounds)
    duban_ms, bare_ms = figures["duban_ms"], figures["bare_ms"]
    print(f"machine: {platform.machine()} {platform.python_implementation()} "
          f"{platform.python_version()}, {args.rounds} rounds")  # fmt: skip
    print(f"duban step (load → complete → steps → deadlines → save): median {duban_ms:.3f} ms")
    print(f"bare SpiffWorkflow step (complete → steps, in memory):    median {bare_ms:.3f} ms")
    print(f"ratio: {duban_ms / bare_ms:.2f} (goal ≤ 1.5)")
    print(f"stored state at the step: {figures['state']} bytes")
    print(f"stored state at the longest wait state (close_case): {figures['longest_state']} bytes "
          f"(goal ≤ 10240)")  # fmt: skip


if __name__ == "__main__":
    main()
