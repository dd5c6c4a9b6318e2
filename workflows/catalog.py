"""Loading, validating and versioning the process definitions in ``bpmn/``.

Every ``*.bpmn`` and ``*.dmn`` file is parsed with SpiffWorkflow's ``SpiffBpmnParser`` (XSD
validation on) when the catalogue is built, so a broken diagram stops start-up with a message
naming the file, the element and the problem. A process's **version** is a hash of the files it
was parsed from (its BPMN file, the files of processes it calls and the DMN files of decisions it
uses); those files are kept in a :class:`SpecStore` so that a case started on an older version
can be reloaded with the diagram it started on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


class ProcessLoadError(Exception):
    """A BPMN or DMN file cannot be loaded; the message names file, element and problem."""

    def __init__(self, file: str, element: str, problem: str) -> None:
        """:param file: the file name; :param element: the element id; :param problem: why."""
        self.file = file
        self.element = element
        self.problem = problem
        where = f"{file}: element '{element}'" if element else file
        super().__init__(f"{where}: {problem}")


class SpecStore(Protocol):
    """Where the source files of every process version are kept (the web app uses the DB)."""

    def save(self, process_id: str, version: str, files: Mapping[str, str]) -> None:
        """Keep the files of a version (idempotent)."""

    def load(self, process_id: str, version: str) -> Mapping[str, str] | None:
        """Return the files of a version, or None when unknown."""


class MemorySpecStore:
    """A :class:`SpecStore` in a dict, for tests and tools."""

    def __init__(self) -> None:
        """Start empty."""
        self.versions: dict[tuple[str, str], dict[str, str]] = {}

    def save(self, process_id: str, version: str, files: Mapping[str, str]) -> None:
        """Keep the files of a version."""
        self.versions.setdefault((process_id, version), dict(files))

    def load(self, process_id: str, version: str) -> Mapping[str, str] | None:
        """Return the files of a version, or None."""
        return self.versions.get((process_id, version))


@dataclass
class ProcessVersion:
    """One parsed version of one executable process."""

    process_id: str
    name: str
    version: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    files: dict[str, str]  # file name -> content, everything the version was parsed from
    lanes: dict[str, str] = field(default_factory=dict)  # task spec name -> lane id
    labels: dict[str, str] = field(default_factory=dict)  # task spec name -> Chinese name

    @property
    def bpmn_source(self) -> str:
        """The BPMN XML of the main process (with its DI, for drawing the diagram)."""
        return next(text for name, text in self.files.items() if name.endswith(".bpmn"))


def version_hash(files: Mapping[str, str]) -> str:
    """Return the content hash identifying a set of source files (16 hex digits)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()[:16]


def _load_error(exc: Exception, default_file: str) -> ProcessLoadError:
    if isinstance(exc, ValidationException):
        file = Path(exc.file_name).name if exc.file_name else default_file
        problem = str(exc).split("\n")[0]
        return ProcessLoadError(file, exc.id or exc.name or exc.tag, problem)
    if isinstance(exc, etree.XMLSyntaxError):
        return ProcessLoadError(
            default_file, "", f"XML syntax error: {exc.msg} (line {exc.lineno})"
        )
    if isinstance(exc, SpiffWorkflowException):
        task_spec = getattr(exc, "task_spec", None)
        element = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", "") or ""
        return ProcessLoadError(default_file, element, str(exc).split("\n")[0])
    return ProcessLoadError(default_file, "", f"{type(exc).__name__}: {exc}")


def _add_file(parser: SpiffBpmnParser, name: str, text: str) -> None:
    try:
        root = etree.fromstring(text.encode())
        if name.endswith(".dmn"):
            parser.add_dmn_xml(root, filename=name)
        else:
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
    except Exception as exc:  # every parser failure becomes one clean message
        raise _load_error(exc, name) from None


def _decision_tables(spec: BpmnProcessSpec) -> set[str]:
    tables = set()
    for task_spec in spec.task_specs.values():
        engine = getattr(task_spec, "dmnEngine", None)
        if engine is not None:
            tables.add(engine.decision_table.id)
    return tables


def _dmn_files_by_table(parser: SpiffBpmnParser) -> dict[str, str]:
    files = {}
    for dmn_parser in parser.dmn_parsers.values():
        dmn_parser.parse()
        for table in dmn_parser.decision.decisionTables:
            files[table.id] = Path(dmn_parser.filename).name
    return files


BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def _lane_ids(bpmn_text: str, process_id: str) -> dict[str, str]:
    """Map flow node ids to lane ids (SpiffWorkflow itself only keeps lane names)."""
    root = etree.fromstring(bpmn_text.encode())
    lanes: dict[str, str] = {}
    for lane in root.xpath(f'.//bpmn:process[@id="{process_id}"]//bpmn:lane', namespaces=BPMN_NS):
        for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=BPMN_NS):
            lanes[(ref.text or "").strip()] = lane.get("id")
    return lanes


def _labels(spec: BpmnProcessSpec) -> dict[str, str]:
    return {
        name: task_spec.bpmn_name
        for name, task_spec in spec.task_specs.items()
        if getattr(task_spec, "bpmn_name", None)
    }


def parse_files(files: Mapping[str, str], validate: bool = True) -> dict[str, ProcessVersion]:
    """Parse a set of BPMN/DMN sources and return every executable process, versioned.

    :param files: file name -> XML text; ``.dmn`` files are decisions, others BPMN.
    :param validate: check the files against the BPMN/DMN XSDs.
    :raises ProcessLoadError: naming the file, element and problem.
    """
    parser = SpiffBpmnParser(validator=BpmnValidator() if validate else None)
    for name in sorted(files, key=lambda n: (not n.endswith(".dmn"), n)):
        _add_file(parser, name, files[name])

    try:
        dmn_files = _dmn_files_by_table(parser)
    except Exception as exc:
        raise _load_error(exc, "*.dmn") from None
    processes: dict[str, ProcessVersion] = {}
    for process_id in parser.get_process_ids():
        process_parser = parser.get_process_parser(process_id)
        own_file = Path(process_parser.filename).name
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except Exception as exc:
            raise _load_error(exc, own_file) from None
        used = {own_file}
        for sub_id in subprocess_specs:
            sub_parser = parser.get_process_parser(sub_id)
            if sub_parser is not None:
                used.add(Path(sub_parser.filename).name)
        for each in [spec, *subprocess_specs.values()]:
            used.update(dmn_files[t] for t in _decision_tables(each) if t in dmn_files)
        version_files = {name: files[name] for name in used}
        lanes = _lane_ids(files[own_file], process_id)
        labels = _labels(spec)
        for sub in subprocess_specs.values():
            labels.update(_labels(sub))
        processes[process_id] = ProcessVersion(
            process_id=process_id,
            name=process_parser.get_name() or process_id,
            version=version_hash(version_files),
            spec=spec,
            subprocess_specs=subprocess_specs,
            files=version_files,
            lanes=lanes,
            labels=labels,
        )
    return processes


def read_sources(directory: Path = BPMN_DIR) -> dict[str, str]:
    """Read every ``*.bpmn`` and ``*.dmn`` file of a directory (name -> text)."""
    paths: Iterable[Path] = sorted([*directory.glob("*.bpmn"), *directory.glob("*.dmn")])
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


class ProcessCatalog:
    """The current process versions, plus older versions reloaded from a :class:`SpecStore`."""

    def __init__(self, store: SpecStore | None = None, directory: Path = BPMN_DIR) -> None:
        """Parse ``directory`` now (fails fast) and record the versions in ``store``.

        :param store: where version sources are kept; an in-memory store when omitted.
        :param directory: the folder of BPMN/DMN files.
        """
        self.store = store if store is not None else MemorySpecStore()
        self.current = parse_files(read_sources(directory))
        self._versions: dict[tuple[str, str], ProcessVersion] = {}
        for process in self.current.values():
            self._versions[(process.process_id, process.version)] = process
            self.store.save(process.process_id, process.version, process.files)

    def latest(self, process_id: str) -> ProcessVersion:
        """Return the current version of a process; KeyError when there is none."""
        return self.current[process_id]

    def get(self, process_id: str, version: str) -> ProcessVersion:
        """Return a given version, reparsing it from the store on first use.

        :raises KeyError: when neither the catalogue nor the store knows the version.
        """
        key = (process_id, version)
        if key not in self._versions:
            files = self.store.load(process_id, version)
            if files is None:
                raise KeyError(f"unknown version {version} of process {process_id}")
            # Stored sources were validated when they were current; skip the XSD pass.
            parsed = parse_files(dict(files), validate=False)[process_id]
            parsed.version = version
            self._versions[key] = parsed
        return self._versions[key]

    def process_ids(self) -> list[str]:
        """Return the ids of the current executable processes."""
        return sorted(self.current)
