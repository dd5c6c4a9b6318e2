"""Every response of the JSON API conforms to the OpenAPI document: its body is validated
against the schema the document declares for the path, method and status (errors included),
with jsonschema (OpenAPI 3.1 schemas are JSON Schema 2020-12; ``$ref`` resolved against the
document itself, formats checked).

The validation is a Flask ``after_request`` hook installed on this module's app only. The API
tests of the other modules are run again here under it (imported below, so that they exercise
the operations as they are meant to be used, errors included), with a few calls of this
module's own; the last test fails when an operation of the document was never called, or when
an error status (401, 403, 404, 409, 422) was never seen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from server.openapi import build_spec

# The API tests of other modules, run again here under the validating app (with the fixtures
# of their own modules they need): together they call every operation, errors included.
from tests.integration.test_admin_browser import (  # noqa: F401
    test_api_agencies_and_contacts,
    test_api_refuses_non_admins,
    test_api_users,
    test_contact_list_is_read_by_the_agency_and_its_supervisors,
)
from tests.integration.test_agency_numbering import (  # noqa: F401
    test_an_override_changes_the_form_and_the_numbers_count_on,
)
from tests.integration.test_api import *  # noqa: F403
from tests.integration.test_case_classification import (  # noqa: F401
    test_api_reclassifies_records_the_change_and_the_lists_follow,
    test_api_refuses_bad_input_and_others_and_changes_nothing,
)
from tests.integration.test_documents_correction import (  # noqa: F401
    test_bad_corrections_are_refused_naming_the_field_and_change_nothing,
)
from tests.integration.test_documents_print import (  # noqa: F401
    test_print_is_recorded_and_stamped_download_is_not,
)
from tests.integration.test_exports_api import *  # noqa: F403
from tests.integration.test_fire_accountability import (  # noqa: F401
    test_a_county_wide_warning_is_read_only_in_its_division,
    test_the_dossier_of_a_fire_names_the_process_and_its_decisions,
)
from tests.integration.test_inbox_tools import (  # noqa: F401
    colleague,
    test_api_bulk_claim_is_all_or_nothing,
    test_api_reassign,
    test_api_search_and_sort,
)
from tests.integration.test_legal_settings import (  # noqa: F401
    test_an_administrator_changes_a_value_and_new_cases_take_it,
    test_bad_values_answer_422_with_the_field_and_change_nothing,
    test_everyone_reads_the_settings_with_value_default_and_basis,
    test_only_administrators_may_change_a_value,
)
from tests.integration.test_mail_delivery import test_api_twin_of_the_account_form  # noqa: F401
from tests.integration.test_registration_preview import (  # noqa: F401
    test_bad_data_and_foreign_districts_are_refused_with_the_field,
    test_the_api_preview_names_the_edition_and_registers_nothing,
)
from tests.integration.test_report_flow import (  # noqa: F401
    generated,
    test_annual_pdf,
    test_api_bad_filters_answer_422,
    test_api_lists_what_the_caller_may_see,
    test_api_refresh_and_downloads,
)
from tests.integration.test_reports_lists import (  # noqa: F401
    test_another_districts_supervisor_sees_none_of_its_rows,
    test_api_xlsx_is_the_same_workbook,
    test_rows_equal_an_independent_count_and_filters_narrow,
)
from tests.integration.test_supervision_reaches import (  # noqa: F401
    late_case,
    test_the_api_twin_of_follow_ups_and_messages,
)
from tests.integration.test_task_forms_tools import (  # noqa: F401
    test_an_overdue_completion_through_the_api_needs_a_reason,
    test_attachments_through_the_api,
    test_drafts_through_the_api,
)

BASE = "/api/v1"
DOCUMENT = "urn:duban:openapi"
METHODS = ("get", "put", "post", "delete", "patch")
#: Error statuses the run must have seen at least once (on any operation).
ERRORS_SEEN = {401, 403, 404, 409, 422}
#: Statuses any operation may answer without listing them (the document's ``default``).
DEFAULT = {405, 500}


def _rule_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path (``<int:case_id>`` → ``{case_id}``), without the base."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)[len(BASE) :]


class Conformance:
    """Validates responses against the document and records what was called."""

    def __init__(self) -> None:
        self.spec = build_spec()
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(DOCUMENT, resource)
        self.validators: dict[str, Draft202012Validator] = {}
        #: (path, method) → statuses answered
        self.called: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.problems: list[str] = []

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self.validators:
            schema = {"$ref": f"{DOCUMENT}#{quote(pointer, safe='/~')}"}
            self.validators[pointer] = Draft202012Validator(
                schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return self.validators[pointer]

    def _response(self, path: str, method: str, status: int) -> tuple[dict[str, Any], str]:
        """The declared response (``$ref`` followed) and the JSON pointer of its object."""
        responses = self.spec["paths"][path][method]["responses"]
        code = str(status) if str(status) in responses else "default"
        pointer = "/paths/" + "/".join(
            p.replace("~", "~0").replace("/", "~1") for p in (path, method, "responses", code)
        )
        declared = responses.get(code)
        if declared is None:
            return {}, ""
        if "$ref" in declared:
            pointer = declared["$ref"].removeprefix("#")
            name = pointer.rsplit("/", 1)[1]
            declared = self.spec["components"]["responses"][name]
        return declared, pointer

    def check(self, response: Response) -> None:
        """Validate one response of the API (called after every request of the app)."""
        if not request.path.startswith(BASE + "/") or request.url_rule is None:
            return  # HTML pages; routing errors (no operation) are checked by test_api
        path, method = _rule_path(request.url_rule.rule), request.method.lower()
        if method == "head" or method == "options":
            return
        where = f"{request.method} {request.full_path.rstrip('?')} → {response.status_code}"
        if path not in self.spec["paths"] or method not in self.spec["paths"][path]:
            self.problems.append(f"{where}: the operation is not in the document")
            return
        self.called[(path, method)].add(response.status_code)
        responses = self.spec["paths"][path][method]["responses"]
        if str(response.status_code) not in responses and response.status_code not in DEFAULT:
            self.problems.append(f"{where}: the operation does not list this status")
        declared, pointer = self._response(path, method, response.status_code)
        if not declared:
            self.problems.append(f"{where}: the status is not declared")
            return
        content = declared.get("content", {})
        if response.status_code == 204 or not content:
            if response.get_data():
                self.problems.append(f"{where}: a body where the document declares none")
            return
        kind = response.mimetype.split("/")[0]
        if not {response.mimetype, f"{kind}/*", "*/*"} & set(content):
            self.problems.append(
                f"{where}: {response.mimetype} is not among the declared {sorted(content)}"
            )
            return
        if response.mimetype != "application/json":
            return
        body = response.get_json(silent=True)
        validator = self._validator(f"{pointer}/content/application~1json/schema")
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        for error in errors[:5]:
            error = best_match([error])  # the deepest cause within oneOf / anyOf
            at = "/".join(str(p) for p in error.absolute_path) or "(body)"
            self.problems.append(f"{where}: at {at}: {error.message[:300]}")

    def operations(self) -> set[tuple[str, str]]:
        """Every (path, method) of the document."""
        return {
            (path, method) for path, item in self.spec["paths"].items() for method in item
            if method in METHODS
        }  # fmt: skip


CONFORMANCE = Conformance()


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest's app, every API response of which is validated against the document."""

    @app.after_request
    def _validate(response: Response) -> Response:
        CONFORMANCE.check(response)
        return response

    return app


@pytest.fixture(autouse=True)
def _conforms() -> Iterator[None]:
    """Fail the test that received a response the document does not describe."""
    before = len(CONFORMANCE.problems)
    yield
    new = CONFORMANCE.problems[before:]
    assert not new, "responses that do not conform to the OpenAPI document:\n" + "\n".join(
        dict.fromkeys(new)
    )


# --------------------------------------------------------------------------- the check itself


def test_the_check_catches_what_the_document_does_not_describe(app: Flask) -> None:
    """A wrong body, an unknown property, an undeclared status or media type are reported."""
    from flask import jsonify

    agency = {"code": "c", "name": "机构", "kind": "street", "division": "wuling"}
    me = {"username": "u", "name": "名", "roles": ["officer"], "can_register": True,
          "agency": agency}  # fmt: skip
    cases = [
        ("/api/v1/me", me, 200, None),
        ("/api/v1/me", {**me, "password": "x"}, 200, "password"),
        ("/api/v1/me", {**me, "roles": "officer"}, 200, "at roles"),
        ("/api/v1/me", {"error": "invalid", "message": "错", "fields": {}}, 422, "does not list"),
        ("/api/v1/cases/1", {"error": "nope", "message": "", "fields": {}}, 404, "nope"),
        ("/api/v1/cases/1/dossier.pdf", b"%PDF", 200, "text/plain"),
    ]
    for path, body, status, problem in cases:
        check = Conformance()
        method = "POST" if path.endswith(".pdf") else "GET"
        with app.test_request_context(path, method=method):
            response = (
                Response(body, mimetype="text/plain") if isinstance(body, bytes) else jsonify(body)
            )
            response.status_code = status
            check.check(response)
        if problem is None:
            assert check.problems == [], check.problems
        else:
            assert len(check.problems) >= 1 and problem in " ".join(check.problems), (
                path,
                check.problems,
            )


# --------------------------------------------------------------------------- last: coverage


def test_every_operation_and_error_status_was_exercised() -> None:
    """Every operation of the document was called in this module, and the error statuses
    clients must handle were answered (and validated) at least once."""
    missing = sorted(CONFORMANCE.operations() - set(CONFORMANCE.called))
    assert not missing, f"operations never exercised: {missing}"
    unsuccessful = sorted(
        op for op, statuses in CONFORMANCE.called.items() if not any(s < 300 for s in statuses)
    )
    assert not unsuccessful, f"operations never answered with success: {unsuccessful}"
    seen = set().union(*CONFORMANCE.called.values())
    assert seen >= ERRORS_SEEN, f"error statuses never answered: {sorted(ERRORS_SEEN - seen)}"
