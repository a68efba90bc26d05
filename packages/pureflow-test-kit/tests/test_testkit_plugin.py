"""The plugin works for an external suite: pytester runs sample user test files.

Each test writes a small project into a temporary directory (no conftest line that
loads the kit) and runs pytest on it in a fresh interpreter, so the fixtures can only
come from the installed ``pytest11`` entry point. (Inline runs would share this process's
``sys.modules``, which pytester restores afterwards: modules first imported inside would
be dropped under the feet of the rest of the session.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"

BOTH_BACKENDS = """
import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param
"""

USER_TESTS = """
import pytest
from pureflow.testkit import CollectingSink, ScriptedSource, SlowNode, linear_workflow


@pytest.mark.anyio
async def test_pipeline(pureflow_run, pureflow_metadata):
    sink = CollectingSink()
    workflow = linear_workflow(["source", "slow", "sink"], capacity=2)
    nodes = {"source": ScriptedSource({"out": ["a", "b"]}), "slow": SlowNode(0.01), "sink": sink}
    run = await pureflow_run(workflow, nodes)
    assert run.succeeded
    assert sink.texts("in") == ["a", "b"]
    pureflow_metadata.assert_lifecycle("slow", ["node_scheduled", "node_started", "node_completed"])


def test_builder_fixture(workflow_builder):
    workflow = workflow_builder("mine").node("only").build()
    assert workflow.id == "mine"
"""


def test_plugin_fixtures_in_an_external_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BOTH_BACKENDS)
    pytester.makepyfile(test_user_pipeline=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_pipeline?asyncio? PASSED*",
            "*test_pipeline?trio? PASSED*",
            "*test_builder_fixture PASSED*",
        ]
    )


def test_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    # In a subprocess: an inline run resets the process's fault handlers, which would
    # remove wasmtime's trap handler for the rest of the session.
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "pureflow_metadata*",
            "*fresh recording metadata sink*",
            "pureflow_run*",
            "*one-call workflow runner*",
            "workflow_builder*",
            "*factory of workflow builders*",
        ]
    )


def _docstring_example() -> str:
    import textwrap

    import pureflow.testkit

    doc = pureflow.testkit.__doc__ or ""
    block = doc.split("::\n", 1)[1].split("\n* ", 1)[0]
    return textwrap.dedent(block)


def test_documented_examples_pass_in_a_fresh_interpreter(pytester: pytest.Pytester) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    readme_example = next(block for block in blocks if "def test_" in block)
    docstring_example = _docstring_example()
    assert len(docstring_example.strip().splitlines()) <= 11
    pytester.makepyfile(test_readme_example=readme_example, test_doc_example=docstring_example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    outcomes = result.parseoutcomes()
    # three tests, on anyio's default backends (asyncio only, or every installed one)
    assert outcomes["passed"] in {3, 6}, result.stdout.str()
    assert set(outcomes) == {"passed"}, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_doc_example.py::test_pipeline*PASSED*"])


def test_a_hung_workflow_fails_fast_with_a_diagnosis(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hang="""
        import anyio
        import pytest
        from pureflow.testkit import CollectingSink, linear_workflow


        @pytest.fixture
        def anyio_backend():
            return "trio"


        async def forgets_to_return(ctx, inputs, outputs):
            await anyio.sleep_forever()


        @pytest.mark.anyio
        async def test_hangs(pureflow_run):
            workflow = linear_workflow(["stuck", "sink"])
            await pureflow_run(workflow, {"stuck": forgets_to_return, "sink": CollectingSink()},
                               timeout=0.1)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*WorkflowTimeoutError: workflow `linear` did not finish within 0.1s; pending nodes: "
            "`stuck` (running, not waiting on a port), `sink` (receiving on `in`)*"
        ]
    )


def test_loading_the_plugin_imports_no_pureflow_layer() -> None:
    code = (
        "import sys, pureflow.testkit.plugin\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('pureflow'))))\n"
        "print('anyio' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert output[0].split() == ["pureflow", "pureflow.testkit", "pureflow.testkit.plugin"]
    assert output[1] == "False"
