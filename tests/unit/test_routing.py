"""Which form fields decide routing (workflows.routing): a correction may not change them."""

from __future__ import annotations

from workflows.catalog import ProcessCatalog
from workflows.routing import WHOLE, expression_reads, process_reads


def test_expression_reads_keys_gets_and_whole_uses() -> None:
    reads = expression_reads(
        'file_case["sealing"] == "none" and register_fire.get("deaths", 0) > 0 and f(review)'
    )
    assert reads["file_case"] == {"sealing"}
    assert reads["register_fire"] == {"deaths"}
    assert reads["review"] == {WHOLE}
    # a script assigning a whole form reads all of it; a DMN unary test parses too
    assert expression_reads("determination = a if b['x'] else c")["c"] == {WHOLE}
    assert expression_reads(">= settings['min']") == {"settings": {"min"}}
    assert expression_reads("not python (") == {}


def test_the_processes_routing_fields() -> None:
    catalog = ProcessCatalog()
    hazard = process_reads(catalog.latest("major_hazard").files)
    assert hazard.decides_routing("report_to_government", "reported_on")  # a timer's start
    assert hazard.decides_routing("temporary_sealing", "decision")  # a gateway's condition
    assert not hazard.decides_routing("refer_to_fire_rescue", "contents")
    fire = process_reads(catalog.latest("fire_accountability").files)
    # a shared fact is read as a whole (timers, lanes, decisions)
    assert fire.decides_routing("register_fire", "anything")
