"""Shared fixtures of the engine tests: one engine per module, a clock on the found date."""

from datetime import date

import pytest

from tests.support.driver import at
from workflows.catalog import ProcessCatalog
from workflows.engine import Engine

FOUND = date(2026, 9, 24)  # Thu, just before the Mid-Autumn and National Day holidays


@pytest.fixture(scope="module")
def engine():
    """An engine over the shipped bpmn/ directory."""
    return Engine(ProcessCatalog())


@pytest.fixture
def clock(time_machine):
    """The time-machine fixture, stopped at 10:00 on the day the hazard is found."""
    time_machine.move_to(at(FOUND), tick=False)
    return time_machine
