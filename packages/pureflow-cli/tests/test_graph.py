"""``pureflow graph``: Mermaid and DOT text (golden), escaping of hostile ids, feedback
loops, ``--format svg`` through Graphviz (a fake ``dot`` here, the real one when
installed), and ``-o FILE``."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pureflow.cli import cli
from pureflow.cli.rendering import capacity_label, feedback_edges, to_dot, to_mermaid
from pureflow.workflow import (
    CyclePolicy,
    EdgeCapacity,
    EdgeDefinition,
    NodeDefinition,
    WorkflowDefinition,
)

REPO = Path(__file__).resolve().parents[3]
ETL = REPO / "examples" / "native-linear-etl" / "native-linear-etl.workflow.json"

FAN = {
    "pureflow_version": "1",
    "id": "fan-out-in",
    "nodes": [
        {"id": "read", "inputs": [], "outputs": ["out"], "component": "builtin:read-lines"},
        {
            "id": "split",
            "inputs": ["in"],
            "outputs": ["matched", "unmatched"],
            "component": "builtin:split",
        },
        {"id": "upper", "inputs": ["in"], "outputs": ["out"]},
        {"id": "lower", "inputs": ["in"], "outputs": ["out"]},
        {
            "id": "join",
            "inputs": ["left", "right"],
            "outputs": ["out"],
            "component": "builtin:merge",
        },
        {"id": "write", "inputs": ["in"], "outputs": []},
    ],
    "edges": [
        {
            "source": {"node": "read", "port": "out"},
            "target": {"node": "split", "port": "in"},
            "capacity": 16,
        },
        {"source": {"node": "split", "port": "matched"}, "target": {"node": "upper", "port": "in"}},
        {
            "source": {"node": "split", "port": "unmatched"},
            "target": {"node": "lower", "port": "in"},
        },
        {
            "source": {"node": "upper", "port": "out"},
            "target": {"node": "join", "port": "left"},
            "capacity": 4,
        },
        {
            "source": {"node": "lower", "port": "out"},
            "target": {"node": "join", "port": "right"},
            "capacity": 4,
        },
        {"source": {"node": "join", "port": "out"}, "target": {"node": "write", "port": "in"}},
    ],
}

ETL_MERMAID = """\
---
title: "native-linear-etl"
---
flowchart LR
    n0["source<br/>out: rows"]
    n1["transform<br/>in: rows<br/>out: cleaned"]
    n2["sink<br/>in: cleaned"]
    n0 -->|"rows → rows<br/>cap 2"| n1
    n1 -->|"cleaned → cleaned<br/>cap 2"| n2
"""

ETL_DOT = """\
digraph "native-linear-etl" {
  graph [rankdir=LR, label="native-linear-etl", labelloc=t, fontname="Helvetica"];
  node [shape=plain, fontname="Helvetica"];
  edge [fontname="Helvetica", fontsize=10];
  "source" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD BGCOLOR="#eef3fb"><B>source</B></TD><TD PORT="o0" ALIGN="RIGHT">rows</TD></TR>
  </TABLE>>];
  "transform" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">rows</TD><TD BGCOLOR="#eef3fb"><B>transform</B></TD>\
<TD PORT="o0" ALIGN="RIGHT">cleaned</TD></TR>
  </TABLE>>];
  "sink" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">cleaned</TD><TD BGCOLOR="#eef3fb"><B>sink</B></TD></TR>
  </TABLE>>];
  "source":o0:e -> "transform":i0:w [label="cap 2"];
  "transform":o0:e -> "sink":i0:w [label="cap 2"];
}
"""

FAN_MERMAID = """\
---
title: "fan-out-in"
---
flowchart LR
    n0["read<br/>(builtin:read-lines)<br/>out: out"]
    n1["split<br/>(builtin:split)<br/>in: in<br/>out: matched, unmatched"]
    n2["upper<br/>in: in<br/>out: out"]
    n3["lower<br/>in: in<br/>out: out"]
    n4["join<br/>(builtin:merge)<br/>in: left, right<br/>out: out"]
    n5["write<br/>in: in"]
    n0 -->|"out → in<br/>cap 16"| n1
    n1 -->|"matched → in<br/>cap 1 (default)"| n2
    n1 -->|"unmatched → in<br/>cap 1 (default)"| n3
    n2 -->|"out → left<br/>cap 4"| n4
    n3 -->|"out → right<br/>cap 4"| n4
    n4 -->|"out → in<br/>cap 1 (default)"| n5
"""

FAN_DOT = """\
digraph "fan-out-in" {
  graph [rankdir=LR, label="fan-out-in", labelloc=t, fontname="Helvetica"];
  node [shape=plain, fontname="Helvetica"];
  edge [fontname="Helvetica", fontsize=10];
  "read" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD BGCOLOR="#eef3fb"><B>read</B><BR/><FONT POINT-SIZE="10">builtin:read-lines</FONT>\
</TD><TD PORT="o0" ALIGN="RIGHT">out</TD></TR>
  </TABLE>>];
  "split" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ROWSPAN="2" ALIGN="LEFT">in</TD><TD ROWSPAN="2" BGCOLOR="#eef3fb">\
<B>split</B><BR/><FONT POINT-SIZE="10">builtin:split</FONT></TD>\
<TD PORT="o0" ALIGN="RIGHT">matched</TD></TR>
    <TR><TD PORT="o1" ALIGN="RIGHT">unmatched</TD></TR>
  </TABLE>>];
  "upper" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">in</TD><TD BGCOLOR="#eef3fb"><B>upper</B></TD>\
<TD PORT="o0" ALIGN="RIGHT">out</TD></TR>
  </TABLE>>];
  "lower" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">in</TD><TD BGCOLOR="#eef3fb"><B>lower</B></TD>\
<TD PORT="o0" ALIGN="RIGHT">out</TD></TR>
  </TABLE>>];
  "join" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">left</TD><TD ROWSPAN="2" BGCOLOR="#eef3fb"><B>join</B>\
<BR/><FONT POINT-SIZE="10">builtin:merge</FONT></TD>\
<TD PORT="o0" ROWSPAN="2" ALIGN="RIGHT">out</TD></TR>
    <TR><TD PORT="i1" ALIGN="LEFT">right</TD></TR>
  </TABLE>>];
  "write" [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">
    <TR><TD PORT="i0" ALIGN="LEFT">in</TD><TD BGCOLOR="#eef3fb"><B>write</B></TD></TR>
  </TABLE>>];
  "read":o0:e -> "split":i0:w [label="cap 16"];
  "split":o0:e -> "upper":i0:w [label="cap 1 (default)"];
  "split":o1:e -> "lower":i0:w [label="cap 1 (default)"];
  "upper":o0:e -> "join":i0:w [label="cap 4"];
  "lower":o0:e -> "join":i1:w [label="cap 4"];
  "join":o0:e -> "write":i0:w [label="cap 1 (default)"];
}
"""

# Every id kind may hold any character but whitespace and control characters.
NASTY_NODES = ['src"1', "mid<x>&y", "end", "é漢字🙂\\N", "[bold]x[/]", "a#quot;b", "style:p#q"]
NASTY_PORTS = ['a"b', "x\\", "<tag>&amp;", "n", "`md`", "{[(|)]}", "%%c", "p;q", "o'k", "s:t#u"]


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="pureflow")
    return result.exit_code, result.stdout, result.stderr


def nasty_workflow() -> WorkflowDefinition:
    """Hostile ids everywhere, a component with markup in it, a chain of edges (explicit
    and default capacities), a self-loop, and a feedback edge back to the first node."""
    ports = iter(NASTY_PORTS)
    nodes = []
    for index, node_id in enumerate(NASTY_NODES):
        inputs = [] if index == 0 else [next(ports, f"in{index}")]
        if index in (0, 3):
            inputs.append(f"loop{index}")
        nodes.append(
            NodeDefinition.of(
                node_id,
                inputs,
                [next(ports, f"out{index}")],
                component='python:m:C"<b>' if index == 1 else None,
            )
        )
    edges = [
        EdgeDefinition.between(
            (nodes[i].id, nodes[i].output_ports[0]),
            (nodes[i + 1].id, nodes[i + 1].input_ports[0]),
            i + 1 if i % 2 else None,
        )
        for i in range(len(nodes) - 1)
    ]
    edges.append(
        EdgeDefinition.between((nodes[3].id, nodes[3].output_ports[0]), (nodes[3].id, "loop3"))
    )
    edges.append(
        EdgeDefinition.between((nodes[-1].id, nodes[-1].output_ports[0]), (nodes[0].id, "loop0"))
    )
    return WorkflowDefinition.from_parts("wf\"<&>'\\", nodes, edges, cycles=CyclePolicy.ALLOW)


def fan_workflow() -> WorkflowDefinition:
    from pureflow.format import DocumentFormat, parse_workflow

    return parse_workflow(json.dumps(FAN), DocumentFormat.JSON)


# --- golden output ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"), [("mermaid", ETL_MERMAID), ("dot", ETL_DOT)], ids=["mermaid", "dot"]
)
def test_native_linear_etl_golden(fmt: str, expected: str) -> None:
    code, out, err = invoke("graph", "--format", fmt, str(ETL))
    assert (code, err) == (0, "")
    assert out == expected


@pytest.mark.parametrize(
    ("fmt", "expected"), [("mermaid", FAN_MERMAID), ("dot", FAN_DOT)], ids=["mermaid", "dot"]
)
def test_fan_out_fan_in_golden(fmt: str, expected: str) -> None:
    code, out, err = invoke("graph", "-f", fmt, "-", stdin=json.dumps(FAN))
    assert (code, err) == (0, "")
    assert out == expected


def test_mermaid_is_the_default_format() -> None:
    assert invoke("graph", str(ETL))[1] == ETL_MERMAID


def test_capacity_labels() -> None:
    assert capacity_label(EdgeCapacity(7)) == "cap 7"
    assert capacity_label(EdgeCapacity.DEFAULT) == "cap 1 (default)"
    assert capacity_label(EdgeCapacity.DEFAULT, default=3) == "cap 3 (default)"


# --- feedback loops ----------------------------------------------------------------------


def test_feedback_edges_are_the_back_edges() -> None:
    nasty = nasty_workflow()
    assert feedback_edges(nasty) == {len(nasty.edges) - 2, len(nasty.edges) - 1}
    assert feedback_edges(fan_workflow()) == frozenset()
    two = WorkflowDefinition.from_parts(
        "two",
        [NodeDefinition.of("a", ["in"], ["out"]), NodeDefinition.of("b", ["in"], ["out"])],
        [
            EdgeDefinition.between(("a", "out"), ("b", "in")),
            EdgeDefinition.between(("b", "out"), ("a", "in")),
        ],
        cycles=CyclePolicy.ALLOW,
    )
    assert feedback_edges(two) == {1}  # exactly one edge of a two-node loop


def test_feedback_edges_are_drawn_dashed() -> None:
    nasty = nasty_workflow()
    mermaid = to_mermaid(nasty).splitlines()
    dotted = [line for line in mermaid if "-.->" in line]
    assert len(dotted) == 2
    assert all('|"feedback<br/>' in line for line in dotted)
    assert dotted[0].strip().startswith("n3 -.->")
    assert dotted[0].endswith("| n3")  # the self-loop
    dot = to_dot(nasty).splitlines()
    dashed = [line for line in dot if "style=dashed" in line]
    assert len(dashed) == 2
    assert all('label="feedback, cap 1 (default)"' in line for line in dashed)
    assert all("constraint=false" in line for line in dashed)


# --- escaping ----------------------------------------------------------------------------


def _mermaid_decode(text: str) -> str:
    """What Mermaid shows for a label: entity codes decoded, ``<br/>`` as a newline."""
    text = re.sub(r"#(\d+);", r"&#\1;", text)
    text = re.sub(r"#([A-Za-z]+);", r"&\1;", text)
    return html.unescape(text.replace("<br/>", "\n"))


def test_mermaid_escapes_every_hostile_id() -> None:
    nasty = nasty_workflow()
    lines = to_mermaid(nasty).splitlines()
    assert lines[1] == "title: " + json.dumps(str(nasty.id), ensure_ascii=False)
    node_lines = lines[4 : 4 + len(nasty.nodes)]
    edge_lines = lines[4 + len(nasty.nodes) :]
    for index, (line, node) in enumerate(zip(node_lines, nasty.nodes, strict=True)):
        match = re.fullmatch(r'    n(\d+)\["([^"]*)"\]', line)
        assert match, line
        assert int(match.group(1)) == index
        label = match.group(2)
        # No raw character Mermaid could read as syntax or as HTML; `#` only in entities.
        assert not re.search(r"[<>&`|\\%]", label.replace("<br/>", ""))
        assert re.sub(r"#\w+;", "", label).count("#") == 0
        shown = _mermaid_decode(label).split("\n")
        assert shown[0] == node.id
        if node.component is not None:
            assert shown[1] == f"({node.component})"
        if node.input_ports:
            assert f"in: {', '.join(node.input_ports)}" in shown
        assert f"out: {', '.join(node.output_ports)}" in shown
    for line, edge in zip(edge_lines, nasty.edges, strict=True):
        match = re.fullmatch(r'    n\d+ (-->|-\.->)\|"([^"]*)"\| n\d+', line)
        assert match, line
        shown = _mermaid_decode(match.group(2)).split("\n")
        assert f"{edge.source.port_id} → {edge.target.port_id}" in shown


def test_mermaid_guards_lines_that_look_like_style_statements() -> None:
    """Mermaid strips the last `;` of a line like `style.*:\\S*#.*;`: on such lines the
    colons of ids are entity codes too, so no `:` stands before a `#`."""
    lines = to_mermaid(nasty_workflow()).splitlines()
    styled = [line for line in lines[4:] if "style" in line]
    assert styled
    for line in styled:
        assert not re.search(r"style.*:\S*#.*;", line), line
    assert "in: " in "\n".join(lines)  # other lines keep readable colons


def _dot_unquote(text: str) -> str:
    return re.sub(r"\\([\\\"])", r"\1", text)


def test_dot_escapes_every_hostile_id() -> None:
    nasty = nasty_workflow()
    dot = to_dot(nasty)
    assert dot.startswith('digraph "wf\\"<&>\'\\\\" {\n')
    assert 'label="wf\\"<&amp;>\'\\\\"' in dot  # Graphviz reads entities in labels
    statements = re.findall(r'^  ("(?:[^"\\]|\\.)*") \[label=<(.*?)>\];$', dot, re.M | re.S)
    assert len(statements) == len(nasty.nodes)
    for (name, label), node in zip(statements, nasty.nodes, strict=True):
        assert _dot_unquote(name[1:-1]) == node.id
        # The HTML-like label holds no raw `<`/`>` but its own tags, and no raw quote.
        texts = [html.unescape(t).replace("\\\\", "\\") for t in re.findall(r">([^<>]+)<", label)]
        assert node.id in texts
        for port in (*node.input_ports, *node.output_ports):
            assert port in texts
        assert '"' not in re.sub(r'[A-Z-]+="[^"<>&]*"', "", label)
    edges = re.findall(
        r'^  "((?:[^"\\]|\\.)*)":o(\d+):e -> "((?:[^"\\]|\\.)*)":i(\d+):w', dot, re.M
    )
    assert len(edges) == len(nasty.edges)
    for (source, out, target, in_), edge in zip(edges, nasty.edges, strict=True):
        source_node, target_node = nasty.node(edge.source.node_id), nasty.node(edge.target.node_id)
        assert _dot_unquote(source) == source_node.id
        assert source_node.output_ports[int(out)] == edge.source.port_id
        assert _dot_unquote(target) == target_node.id
        assert target_node.input_ports[int(in_)] == edge.target.port_id


def test_markup_in_ids_is_escaped_as_text_in_dot() -> None:
    dot = to_dot(nasty_workflow())
    assert "<B>mid&lt;x&gt;&amp;y</B>" in dot
    assert '<FONT POINT-SIZE="10">python:m:C&quot;&lt;b&gt;</FONT>' in dot
    assert "<B>é漢字🙂\\\\N</B>" in dot  # Graphviz would expand a single `\N`


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize("name", ["etl", "fan", "nasty"])
def test_real_graphviz_accepts_the_dot_and_shows_the_ids(name: str) -> None:
    from pureflow.format import load_workflow

    workflow = {
        "etl": lambda: load_workflow(str(ETL)),
        "fan": fan_workflow,
        "nasty": nasty_workflow,
    }[name]()
    dot = shutil.which("dot")
    assert dot is not None
    done = subprocess.run(
        [dot, "-Tsvg"], input=to_dot(workflow).encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert not done.stderr, done.stderr.decode()
    svg = done.stdout.decode()
    texts = {html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)}
    for node in workflow.nodes:
        assert node.id in texts
        assert set(node.input_ports) | set(node.output_ports) <= texts


# --- svg, files ---------------------------------------------------------------------------


def test_svg_without_graphviz_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pureflow.cli.commands.graph.shutil.which", lambda _name: None)
    code, out, err = invoke("graph", "--format", "svg", str(ETL))
    assert code == 1
    assert out == ""
    assert err == (
        "error: --format svg needs the Graphviz `dot` program on PATH "
        "(install graphviz, or use --format dot)\n"
    )


def _fake_dot(folder: Path, body: str) -> Path:
    """A `dot` that behaves as the script ``body`` says (reads DOT on stdin)."""
    script = folder / "fake_dot.py"
    script.write_text(body)
    launcher = folder / "dot"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    launcher.chmod(0o755)
    return launcher


def test_svg_runs_dot_and_writes_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake_dot(
        tmp_path,
        "import sys\n"
        "assert sys.argv[1:] == ['-Tsvg'], sys.argv\n"
        "source = sys.stdin.read()\n"
        "sys.stdout.write('<svg><!--' + str(len(source)) + '--></svg>\\n')\n",
    )
    monkeypatch.setattr("pureflow.cli.commands.graph.shutil.which", lambda _name: str(fake))
    code, out, err = invoke("graph", "-f", "svg", str(ETL))
    assert (code, err) == (0, "")
    assert out == f"<svg><!--{len(ETL_DOT)}--></svg>\n"
    target = tmp_path / "deep" / "er" / "etl.svg"
    code, out, err = invoke("graph", "-f", "svg", "-o", str(target), str(ETL))
    assert (code, out, err) == (0, "", "")
    assert target.read_text() == f"<svg><!--{len(ETL_DOT)}--></svg>\n"


def test_a_failing_dot_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_dot(
        tmp_path, "import sys\nsys.stderr.write('syntax error in line 1\\n')\nsys.exit(2)\n"
    )
    monkeypatch.setattr("pureflow.cli.commands.graph.shutil.which", lambda _name: str(fake))
    code, _, err = invoke("graph", "-f", "svg", str(ETL))
    assert code == 1
    assert err == "error: Graphviz `dot` failed (exit 2): syntax error in line 1\n"


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "etl.dot"
    code, out, err = invoke("graph", "--format", "dot", "--output", str(target), str(ETL))
    assert (code, out, err) == (0, "", "")
    assert target.read_text(encoding="utf-8") == ETL_DOT
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = invoke("graph", "-o", str(blocker / "x.mmd"), str(ETL))
    assert code == 1
    assert err.startswith(f"error: failed to write `{blocker / 'x.mmd'}`")


def test_errors_in_the_workflow_are_reported_as_usual() -> None:
    code, out, err = invoke("graph", "-", stdin="{")
    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert invoke("graph", "--format", "png", str(ETL))[0] == 2


def test_the_real_command_prints_unicode_whatever_the_locale(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    doc = {
        "pureflow_version": "1",
        "id": "ünï",
        "nodes": [{"id": "漢字", "inputs": [], "outputs": []}],
        "edges": [],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pureflow.cli", "graph", str(path)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", "PYTHONIOENCODING": "ascii"},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert '    n0["漢字"]' in done.stdout.decode("utf-8")
