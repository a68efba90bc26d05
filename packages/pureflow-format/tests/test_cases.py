"""Every case of the shared table: the parser's verdict, first code, location and message."""

from __future__ import annotations

import pytest
from pureflow.format import WorkflowDocumentError, parse_workflow
from pureflow.format.diagnostics import DIAGNOSTIC_CODES
from pureflow_format_testdata import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case(case: Case) -> None:
    if case.code is None:
        workflow = parse_workflow(case.text, case.format)
        assert workflow.nodes
        return
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(case.text, case.format)
    err = caught.value
    first = err.diagnostics[0]
    assert err.format is case.format
    assert err.stage == case.stage
    assert first.code == case.code, err.render("doc")
    if case.location is not None:
        assert first.location == case.location, err.render("doc")
    if case.message is not None:
        assert first.message == case.message
    for diagnostic in err.diagnostics:
        assert diagnostic.code in DIAGNOSTIC_CODES
    headline = str(err)
    assert "\n" not in headline
    label = case.format.label
    if err.stage == "decode":
        assert headline.startswith(f"failed to decode workflow {label}: {first.message}")
    else:
        assert headline == f"workflow {label} is invalid: {first.message}"
