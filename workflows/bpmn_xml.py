"""Reading BPMN XML safely: namespaces and small parsing helpers shared by the DI code."""

from __future__ import annotations

import math
import re
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse(xml: str | bytes) -> Any:
    """Parse the document without resolving entities or touching the network."""
    if isinstance(xml, str):
        # lxml refuses a str that carries an encoding declaration; the text is already decoded.
        xml = _XML_DECLARATION.sub("", xml, count=1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(xml, parser)


def local_name(el: Any) -> str:
    """The local name of an element's tag (no namespace)."""
    return str(etree.QName(el).localname)


def finite_number(text: str | None) -> float | None:
    """A finite float from an attribute value, or None when missing or not a number."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
