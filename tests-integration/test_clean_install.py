"""The distributions as users get them: built, installed into fresh virtual environments.

The build and install commands are the ones docs/getting-started/install.md shows (its
blocks marked ``sample: clean-install``), run as they are written with bash. One build
(an sdist and a wheel of every package) serves every test here:

* the metadata of every sdist and wheel is complete, and every package has one version;
* an sdist holds what is needed to build its wheel again;
* each of the four uses works in its own fresh environment: ``pureflow-types`` alone;
  ``pureflow-introspection`` alone, with no anyio, wasmtime or click; ``pureflow-cli``
  (``--version``, ``validate``, ``run`` on an example); and ``pureflow-test-kit`` inside a
  sample project whose own pytest suite uses the plugin's fixtures to run workflows.

No sibling is ever resolved from a package index: the install commands name our wheel
files, pip runs verbose, and a test fails if its log shows a lookup of any ``pureflow``
name (a different project owns the name ``pureflow`` on the index). Third-party
dependencies come from the index as usual (pip's cache makes a second run fast).
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from integration_support import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.timeout(900)

PACKAGES = sorted(p for p in (REPO / "packages").iterdir() if (p / "pyproject.toml").is_file())
INSTALL_PAGE = REPO / "docs" / "getting-started" / "install.md"
LICENSE = (REPO / "LICENSE").read_text(encoding="utf-8")
PYTHONS = ("3.11", "3.12", "3.13", "3.14")


# --- the documented commands ----------------------------------------------------------


def documented_block(marker: str) -> str:
    """The body of the fenced block right after ``<!-- sample: MARKER -->``."""
    text = INSTALL_PAGE.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- sample: {re.escape(marker)} -->\n```bash\n(.*?)\n```", text, re.DOTALL
    )
    assert match, f"{INSTALL_PAGE.name}: no bash block marked `sample: {marker}`"
    return match.group(1)


def documented_installs() -> dict[str, str]:
    """The install commands, by the comment above each."""
    commands: dict[str, str] = {}
    comment = ""
    for line in documented_block("clean-install install").splitlines():
        if line.startswith("#"):
            comment = line.lstrip("# ").strip()
        elif line.strip():
            commands[comment] = line.strip()
    return commands


# --- building ------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """One package's built files."""

    name: str
    folder: Path
    wheel: Path
    sdist: Path

    def wheel_metadata(self) -> Message:
        with zipfile.ZipFile(self.wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            return email.parser.Parser().parsestr(archive.read(name).decode())

    def sdist_metadata(self) -> Message:
        with tarfile.open(self.sdist) as archive:
            member = next(
                m
                for m in archive.getmembers()
                if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
            )
            data = archive.extractfile(member)
            assert data is not None
            return email.parser.Parser().parsestr(data.read().decode())

    def wheel_files(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()

    def sdist_files(self) -> list[str]:
        with tarfile.open(self.sdist) as archive:
            return [m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name]


@dataclass(frozen=True)
class Build:
    root: Path  # holds packages/ (a copy) and dist/, like the repository root
    dists: dict[str, Dist]


def clean_env(extra_path: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child process: nothing of the workspace's environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS"}
        and not key.startswith(("PYTEST_", "HATCH_ENV"))
    }
    path = env.get("PATH", "")
    # Drop the workspace environment's bin/ so `python` and `pureflow` are never its own.
    own_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in path.split(os.pathsep) if p != own_bin)
    if extra_path is not None:
        path = f"{extra_path}{os.pathsep}{path}"
    env.update(PATH=path, PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def sh(command: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run a documented command line with bash; fail with its output if it fails."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = tmp_path_factory.mktemp("clean-install")
    shutil.copytree(
        REPO / "packages",
        root / "packages",
        ignore=shutil.ignore_patterns(
            "__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", "*.egg-info"
        ),
    )
    hatch = shutil.which("hatch")
    assert hatch, "the build command needs hatch (the README installs it first)"
    sh(documented_block("clean-install build"), root, clean_env(Path(hatch).parent))
    dists = {}
    for folder in PACKAGES:
        name = tomllib.loads((folder / "pyproject.toml").read_text())["project"]["name"]
        stem = name.replace("-", "_")
        wheels = sorted((root / "dist").glob(f"{stem}-*.whl"))
        sdists = sorted((root / "dist").glob(f"{stem}-*.tar.gz"))
        assert len(wheels) == 1, f"{name}: wheels {wheels}"
        assert len(sdists) == 1, f"{name}: sdists {sdists}"
        dists[name] = Dist(name, folder, wheels[0], sdists[0])
    return Build(root, dists)


# --- metadata --------------------------------------------------------------------------


def test_every_package_builds_an_sdist_and_a_wheel(build: Build) -> None:
    assert sorted(build.dists) == sorted(
        tomllib.loads((p / "pyproject.toml").read_text())["project"]["name"] for p in PACKAGES
    )
    assert len(build.dists) == 16


def test_metadata_is_complete(build: Build) -> None:
    for dist in build.dists.values():
        for kind, meta in (("wheel", dist.wheel_metadata()), ("sdist", dist.sdist_metadata())):
            where = f"{dist.name} ({kind})"
            assert meta["Name"] == dist.name, where
            assert len(meta["Summary"] or "") > 20, where
            assert meta["Requires-Python"] == ">=3.11", where
            assert meta["License-Expression"] == "MIT", where
            assert meta.get_all("License-File") == ["LICENSE"], where
            assert meta["Description-Content-Type"] == "text/markdown", where
            readme = (dist.folder / "README.md").read_text(encoding="utf-8")
            assert meta.get_payload().strip() == readme.strip(), f"{where}: long description"
            assert f"# {dist.name}" in readme, f"{where}: README title"
            classifiers = meta.get_all("Classifier") or []
            for version in PYTHONS:
                assert f"Programming Language :: Python :: {version}" in classifiers, where
            assert "Typing :: Typed" in classifiers, where
            # PEP 639: the license expression replaces license classifiers.
            assert not [c for c in classifiers if c.startswith("License ::")], where
            urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
            assert {"Documentation", "Source", "Changelog", "Issues"} <= set(urls), where
            assert all(u.startswith("https://") for u in urls.values()), where


def test_files_are_complete(build: Build) -> None:
    for dist in build.dists.values():
        module = dist.name.removeprefix("pureflow-").replace("-", "")
        wheel = dist.wheel_files()
        assert f"pureflow/{module}/py.typed" in wheel, dist.name
        assert f"pureflow/{module}/__init__.py" in wheel, dist.name
        # An implicit namespace package: no distribution owns `pureflow` itself.
        assert "pureflow/__init__.py" not in wheel, dist.name
        dist_info = f"{dist.wheel.name.split('-')[0]}-"
        assert all(name.startswith(("pureflow/", dist_info)) for name in wheel), dist.name
        license_file = next(n for n in wheel if n.endswith(".dist-info/licenses/LICENSE"))
        with zipfile.ZipFile(dist.wheel) as archive:
            assert archive.read(license_file).decode() == LICENSE, dist.name
        sdist = dist.sdist_files()
        for required in ("LICENSE", "README.md", "pyproject.toml", "PKG-INFO"):
            assert required in sdist, f"{dist.name}: sdist lacks {required}"
        assert f"src/pureflow/{module}/py.typed" in sdist, dist.name
        assert (dist.folder / "LICENSE").read_text(encoding="utf-8") == LICENSE, (
            f"{dist.name}: packages/*/LICENSE must be a copy of the repository's LICENSE"
        )


def test_an_sdist_builds_the_same_wheel(build: Build, tmp_path: Path) -> None:
    """Every sdist is complete: unpacked on its own, it builds a wheel with the same files."""
    for dist in build.dists.values():
        with tarfile.open(dist.sdist) as archive:
            archive.extractall(tmp_path / dist.name, filter="data")
        (source,) = (tmp_path / dist.name).iterdir()
        out = tmp_path / f"{dist.name}-wheel"
        subprocess.run(
            [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
            cwd=source,
            check=True,
            capture_output=True,
            timeout=120,
        )
        (rebuilt,) = out.glob("*.whl")
        with zipfile.ZipFile(rebuilt) as archive:
            assert sorted(archive.namelist()) == sorted(dist.wheel_files()), dist.name


def test_one_version_for_every_package(build: Build) -> None:
    versions = {dist.name: dist.wheel_metadata()["Version"] for dist in build.dists.values()}
    assert len(set(versions.values())) == 1, versions
    (version,) = set(versions.values())
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{version}]" in changelog, f"CHANGELOG.md has no section for {version}"


def test_sibling_ranges_allow_a_newer_lower_layer(build: Build) -> None:
    """``pureflow-x>=<low>,<<next major>``: any later version of the same major fits."""
    for dist in build.dists.values():
        version = Version(dist.wheel_metadata()["Version"])
        next_major = f"{version.major + 1}"
        for text in dist.wheel_metadata().get_all("Requires-Dist") or []:
            requirement = Requirement(text)
            if not requirement.name.startswith("pureflow"):
                continue
            assert requirement.name in build.dists, f"{dist.name}: unknown sibling {text}"
            spec = requirement.specifier
            assert spec.contains(str(version)), f"{dist.name}: {text} excludes {version}"
            assert spec.contains(f"{version.major}.99.0"), f"{dist.name}: {text} too narrow"
            assert not spec.contains(next_major), f"{dist.name}: {text} admits a new major"


def test_no_distribution_is_named_pureflow_or_depends_on_it(build: Build) -> None:
    for dist in build.dists.values():
        meta = dist.wheel_metadata()
        assert canonicalize_name(meta["Name"]) != "pureflow"
        assert canonicalize_name(meta["Name"]).startswith("pureflow-")
        for text in meta.get_all("Requires-Dist") or []:
            assert canonicalize_name(Requirement(text).name) != "pureflow", (dist.name, text)


# --- the four uses, each in a fresh environment ----------------------------------------


@dataclass(frozen=True)
class Env:
    """A fresh virtual environment with some of our wheels installed."""

    path: Path
    build: Build
    install_log: str

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self) -> dict[str, str]:
        return clean_env(self.bin, VIRTUAL_ENV=str(self.path))

    def run(self, *args: str | Path, cwd: Path | None = None, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=cwd or self.path,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def python_json(self, code: str) -> object:
        return json.loads(self.run(self.python, "-c", code))

    def installed(self) -> dict[str, dict]:  # type: ignore[type-arg]
        """Every distribution in the environment: name -> {version, direct_url}."""
        return self.python_json(  # type: ignore[return-value]
            "import json, importlib.metadata as m\n"
            "out = {}\n"
            "for d in m.distributions():\n"
            "    url = d.read_text('direct_url.json')\n"
            "    out[d.metadata['Name'].lower()] = {'version': d.version,\n"
            "        'direct_url': json.loads(url)['url'] if url else None}\n"
            "print(json.dumps(out))"
        )

    def importable(self, module: str) -> bool:
        return bool(
            self.python_json(
                f"import importlib.util, json; print(json.dumps("
                f"importlib.util.find_spec({module!r}) is not None))"
            )
        )


def fresh_env(build: Build, tmp_path: Path, use: str) -> Env:
    """A new virtual environment, then the documented install command for ``use``."""
    command = documented_installs()[use]
    path = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    env = clean_env(path / "bin", VIRTUAL_ENV=str(path), PIP_VERBOSE="2")
    log = sh(command, build.root, env)
    fresh = Env(path, build, log)
    # Never a lookup of one of our names on an index, nor of plain `pureflow`.
    lookups = re.findall(r"/simple/(pureflow[\w.-]*)", log) + re.findall(
        r"(?:Fetching project page|Getting page).*?/(pureflow[\w.-]*)/?\s*$", log, re.MULTILINE
    )
    assert not lookups, f"pip looked up {sorted(set(lookups))} on an index:\n{log}"
    third_party = {n for n in fresh.installed() if not n.startswith("pureflow")}
    if third_party - {"pip", "setuptools"}:
        # The guard above sees lookups: pip logged the ones it made for third-party names.
        assert re.search(r"/simple/[a-z]", log), log
    # Every distribution of ours came from a wheel we built.
    for name, info in fresh.installed().items():
        if name.startswith("pureflow"):
            assert name in build.dists, f"{name} is not ours"
            url = info["direct_url"] or ""
            assert url.startswith("file://"), (name, info)
            assert url.endswith(".whl"), (name, info)
            assert Path(url.removeprefix("file://")).parent == build.root / "dist", (name, url)
    fresh.run(fresh.python, "-m", "pip", "check")
    return fresh


def ours(env: Env) -> set[str]:
    return {name for name in env.installed() if name.startswith("pureflow")}


def test_the_install_page_documents_the_four_uses() -> None:
    commands = documented_installs()
    assert set(commands) == {
        "identifiers only",
        "the runtime-free tool layer: no anyio, no wasmtime, no click",
        "the pytest plugin, for your own test suite",
        "everything, with the `pureflow` command",
    }, commands
    assert all(c.startswith("python -m pip install dist/") for c in commands.values())


def test_types_alone(build: Build, tmp_path: Path) -> None:
    env = fresh_env(build, tmp_path, "identifiers only")
    assert ours(env) == {"pureflow-types"}
    assert set(env.installed()) <= {"pureflow-types", "pip", "setuptools"}
    out = env.run(
        env.python,
        "-c",
        "from pureflow.types import IdentifierError, NodeId\n"
        "print(repr(NodeId('transform')))\n"
        "try:\n    NodeId('bad id')\nexcept IdentifierError as err:\n    print(err)",
    )
    assert out == "NodeId('transform')\nnode id must not contain whitespace\n"


def test_introspection_alone(build: Build, tmp_path: Path) -> None:
    env = fresh_env(build, tmp_path, "the runtime-free tool layer: no anyio, no wasmtime, no click")
    assert ours(env) == {
        "pureflow-types",
        "pureflow-rules",
        "pureflow-workflow",
        "pureflow-contract",
        "pureflow-introspection",
    }
    for absent in ("anyio", "wasmtime", "click", "pydantic", "pureflow.core", "pureflow.cli"):
        assert not env.importable(absent), f"{absent} is installed with introspection alone"
    out = env.run(
        env.python,
        "-c",
        "from pureflow.introspection import (introspect_workflow,\n"
        "    introspection_to_json_text, passive_contracts)\n"
        "from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition\n"
        "workflow = WorkflowDefinition.from_parts('flow', [\n"
        "    NodeDefinition.of('source', [], ['out']), NodeDefinition.of('sink', ['in'], [])],\n"
        "    [EdgeDefinition.between(('source', 'out'), ('sink', 'in'), 8)])\n"
        "contracts, capabilities = passive_contracts(workflow)\n"
        "print(introspection_to_json_text(introspect_workflow(workflow, contracts,"
        " capabilities)), end='')\n"
        "import sys\n"
        "assert not any(m.split('.')[0] in {'anyio', 'wasmtime', 'click'} for m in sys.modules)",
    )
    report = json.loads(out)
    assert report["workflow_id"] == "flow"
    assert [n["node_id"] for n in report["nodes"]] == ["source", "sink"]
    assert report["edges"][0]["capacity"] == {"kind": "explicit", "value": 8}


def test_cli(build: Build, tmp_path: Path) -> None:
    env = fresh_env(build, tmp_path, "everything, with the `pureflow` command")
    assert ours(env) == set(build.dists)
    pureflow = env.bin / "pureflow"
    version = build.dists["pureflow-cli"].wheel_metadata()["Version"]
    assert env.run(pureflow, "--version") == f"pureflow {version}\n"

    etl = REPO / "examples" / "native-linear-etl" / "native-linear-etl.workflow.json"
    assert env.run(pureflow, "validate", etl) == (
        "valid workflow `native-linear-etl`\nnodes: 3\nedges: 2\n"
    )

    example = tmp_path / "wasm-uppercase"
    shutil.copytree(
        REPO / "examples" / "wasm-uppercase", example, ignore=shutil.ignore_patterns("output")
    )
    workflow = example / "wasm-uppercase.workflow.json"
    assert env.run(pureflow, "validate", workflow).startswith("valid workflow `wasm-uppercase`")
    out = env.run(pureflow, "run", workflow, tmp_path / "run.metadata.jsonl", cwd=tmp_path)
    assert "status: completed" in out, out
    assert (example / "output" / "uppercase.txt").read_text().splitlines() == [
        "HELLO FROM WASM",
        "SECOND PACKET",
    ]
    lines = (tmp_path / "run.metadata.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["record_type"] for r in records} >= {"lifecycle", "message", "queue_pressure"}

    summary = json.loads(
        env.run(pureflow, "run", "--json", etl, tmp_path / "etl.metadata.jsonl", cwd=tmp_path)
    )
    assert summary["status"] == "completed"
    assert "read-lines" in env.run(pureflow, "components")


SAMPLE_PYPROJECT = """\
[project]
name = "sample-flows"
version = "0.0.0"
requires-python = ">=3.11"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

SAMPLE_WORKFLOW = {
    "pureflow_version": "1",
    "id": "greet",
    "nodes": [
        {"id": "source", "inputs": [], "outputs": ["out"]},
        {"id": "greet", "inputs": ["in"], "outputs": ["out"]},
        {"id": "sink", "inputs": ["in"], "outputs": []},
    ],
    "edges": [
        {"source": {"node": "source", "port": "out"}, "target": {"node": "greet", "port": "in"}},
        {"source": {"node": "greet", "port": "out"}, "target": {"node": "sink", "port": "in"}},
    ],
}

SAMPLE_TESTS = '''\
"""A project's own tests, using the fixtures of the installed pureflow-test-kit plugin."""

from pathlib import Path

import pytest
from pureflow.core import PacketPayload, node_executor
from pureflow.testkit import CollectingSink, FailingNode, ScriptedSource

FLOWS = Path(__file__).parent.parent / "flows"


@node_executor
async def greet(ctx, inputs, outputs):
    async for packet in inputs.iter("in"):
        text = b"hello " + packet.payload.as_bytes()
        await outputs.send("out", packet.with_payload(PacketPayload.bytes(text)))


@pytest.mark.anyio
async def test_a_document_runs(pureflow_run, pureflow_metadata):
    sink = CollectingSink()
    nodes = {"source": ScriptedSource({"out": ["ada", "bob"]}), "greet": greet, "sink": sink}
    run = await pureflow_run(FLOWS / "greet.workflow.json", nodes)
    run.assert_succeeded()
    assert sink.texts("in") == ["hello ada", "hello bob"]
    pureflow_metadata.assert_no_errors()
    assert pureflow_metadata.count("message", "enqueued") == 4


@pytest.mark.anyio
async def test_a_built_workflow_fails_loudly(pureflow_run, pureflow_metadata, workflow_builder):
    workflow = (
        workflow_builder("built")
        .node("source", outputs=["out"])
        .node("greet", inputs=["in"], outputs=["out"])
        .edge("source", "out", "greet", "in", capacity=1)
        .build()
    )
    nodes = {"source": ScriptedSource({"out": ["x"]}), "greet": FailingNode("boom")}
    run = await pureflow_run(workflow, nodes)
    run.assert_failed("greet", match="boom")
    assert pureflow_metadata.count("error", "workflow_failed") == 1


def test_the_plugin_is_loaded(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("pureflow")
'''


def test_test_kit_in_a_sample_project(build: Build, tmp_path: Path) -> None:
    env = fresh_env(build, tmp_path, "the pytest plugin, for your own test suite")
    assert ours(env) == {
        "pureflow-types",
        "pureflow-rules",
        "pureflow-workflow",
        "pureflow-format",
        "pureflow-contract",
        "pureflow-core",
        "pureflow-runtime",
        "pureflow-engine",
        "pureflow-test-kit",
    }
    for absent in ("wasmtime", "click", "pureflow.cli", "pureflow.wasm", "pureflow.nodes"):
        assert not env.importable(absent), f"{absent} is installed with the test kit"
    project = tmp_path / "sample-flows"
    (project / "tests").mkdir(parents=True)
    (project / "flows").mkdir()
    (project / "pyproject.toml").write_text(SAMPLE_PYPROJECT)
    (project / "flows" / "greet.workflow.json").write_text(json.dumps(SAMPLE_WORKFLOW, indent=2))
    (project / "tests" / "test_flows.py").write_text(SAMPLE_TESTS)
    out = env.run(env.python, "-m", "pytest", "-p", "no:cacheprovider", "-rA", cwd=project)
    assert re.search(r"^=+ 3 passed in ", out, re.MULTILINE), out  # no skip, no warning
