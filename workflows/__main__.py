"""Command line for the engine core, usable before and without the web app.

    python -m workflows check                      # validate bpmn/, forms/ and documents/
    python -m workflows deadline 2026-09-24 5 [--calendar-days]
    python -m workflows judge-hazard --category crowded --elements 6.5,7.3.1 [--exclusion b]
                                     [--on 2026-12-07]
    python -m workflows grade-fire --deaths 5 --serious-injuries 15 --site residence [--on DATE]

The web app exposes the same functions as ``flask --app server …`` commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from workflows import campaign_areas, documents, fire_grading, gb35181, legal_settings
from workflows.catalog import BPMN_DIR, ProcessCatalog, ProcessLoadError
from workflows.deadlines import compute_deadline
from workflows.dmn_check import check_directory as check_dmn_files
from workflows.forms import FormDefinitionError, check_all_forms


def _check(directory: Path) -> int:
    try:
        catalog = ProcessCatalog(directory=directory)
        forms = check_all_forms()
        settings_file = directory / "legal_settings.json"
        settings = legal_settings.catalogue(settings_file) if settings_file.is_file() else ()
        areas_file = directory / "campaign_areas.json"
        areas = campaign_areas.load(areas_file) if areas_file.is_file() else ()
        editions = gb35181.check_editions()
        document_lines = documents.check_all()
    except (ProcessLoadError, FormDefinitionError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    dmn_problems = check_dmn_files(directory)
    if dmn_problems:
        sys.stderr.write("".join(f"error: {line}\n" for line in dmn_problems))
        return 1
    missing = [
        f"{process_id}: user task {spec.name} has no form in forms/"
        for process_id in catalog.process_ids()
        for spec in catalog.latest(process_id).spec.task_specs.values()
        if spec.manual and spec.name not in forms
    ]
    if missing:
        sys.stderr.write("".join(f"error: {line}\n" for line in missing))
        return 1
    for process_id in catalog.process_ids():
        process = catalog.latest(process_id)
        files = ", ".join(sorted(process.files))
        sys.stdout.write(f"{process_id} ({process.name}) version {process.version}: {files}\n")
    sys.stdout.write(f"{len(forms)} forms ok\n")
    sys.stdout.write(f"{len(settings)} legal settings ok\n")
    sys.stdout.write(f"{len(areas)} campaign areas ok\n")
    for line in editions:
        sys.stdout.write(f"{line}\n")
    for line in document_lines:
        sys.stdout.write(f"{line}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m workflows", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="load and validate bpmn/ and forms/")
    check.add_argument("--bpmn", type=Path, default=BPMN_DIR, help="the BPMN/DMN folder")
    deadline = commands.add_parser("deadline", help="print the due datetime of a deadline")
    deadline.add_argument("start", help="start date YYYY-MM-DD or ISO datetime")
    deadline.add_argument("n", type=int, help="number of days")
    deadline.add_argument("--calendar-days", action="store_true", help="count calendar days")
    commands.add_parser("judge-hazard", help="GB 35181 verdict as JSON", add_help=False)
    commands.add_parser(
        "grade-fire",
        help="fire level, procedure, investigating level, warning as JSON",
        add_help=False,
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "judge-hazard":
        return gb35181.main(rest)
    if args.command == "grade-fire":
        # The documented defaults of bpmn/legal_settings.json; the web app's command applies
        # the administrator's values.
        return fire_grading.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check":
        return _check(args.bpmn)
    try:
        result = compute_deadline(args.start, args.n, calendar_days=args.calendar_days)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
