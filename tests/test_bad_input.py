"""SPEC section 6: bad input gets one line naming the file; the run goes on; no traceback.

Every case runs through the installed CLI (or, for a moment that needs a cue, through the
same entry point with a test hook, see cli_hooks.py) in every output format, beside a
companion file with a finding that must still be reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cli_hooks import launcher
from cli_runner import lint_ws_executable, run_cli
from lint_ws import engine
from lint_ws.reporters import FORMATS
from lint_ws.source import MAX_FILE_BYTES
from test_sarif import assert_consistent, assert_valid, sarif_validator  # noqa: F401 (a fixture, requested by name)

GOOD_RUST = "fn main() {\n    println!(\"hello\");\n}\n"
# Files are parsed only when a selected rule may fire there, so the Python inputs of these
# tests carry connection code (7 lines).
CONNECTION_CODE = "import asyncio\n\nasync def pump(ws, outbox, msg):\n    try:\n        outbox.put_nowait(msg)\n    except asyncio.QueueFull:\n        await ws.close()\n"
CONNECTION_RUST = "fn send(tx: Sender<u8>) { tx.try_send(1); }\n"
# Linted beside every case: its finding shows that the other files are still linted.
COMPANION = "companion.rs"
COMPANION_SOURCE = (
    "use std::collections::HashMap;\n\n"
    "pub fn broadcast(peers: &mut HashMap<u64, flume::Sender<String>>, text: &str) {\n"
    "    peers.retain(|_, tx| tx.try_send(text.to_owned()).is_ok());\n"
    "}\n"
)
COMPANION_FINDING_LINE = 4
GENERATED_BYTES = 20 * 1024 * 1024
DEEP = 5000
LONG_LINE = 1_000_000


@dataclass(frozen=True)
class Launch:
    """How a case is linted: the paths named, and a replacement for the installed script."""

    paths: tuple[str, ...] = (".",)
    command: list[str] | None = None
    env: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str  # the file the message must name
    outcome: str  # "error" (exit 2), "warning" (a message, exit unchanged) or "clean"
    build: Callable[[Path, pytest.FixtureRequest], Launch | None]
    line: int | None = None  # the line an error names
    says: str = ""  # words the message must hold, where the cause is worth naming


def file_case(name: str, outcome: str, data: bytes | str, line: int | None = None) -> Case:
    """A case that is one file holding ``data``."""
    content = data.encode() if isinstance(data, str) else data

    def build(tree: Path, request) -> None:
        (tree / name).write_bytes(content)

    return Case(name, outcome, build, line)


def linked_generated_file(tree: Path, request) -> None:
    generated = request.getfixturevalue("generated_20mb")
    try:
        os.link(generated, tree / "generated.rs")
    except OSError:
        shutil.copyfile(generated, tree / "generated.rs")


def dangling_symlink(tree: Path, request) -> None:
    os.symlink(tree / "nowhere.rs", tree / "dangling.rs")


def symlink_loop(tree: Path, request) -> None:
    os.symlink("loop_b.rs", tree / "loop_a.rs")
    os.symlink("loop_a.rs", tree / "loop_b.rs")


def unreadable_file(tree: Path, request, name: str = "secret.rs", paths: tuple[str, ...] = (".",)) -> Launch:
    path = tree / name
    path.write_text(CONNECTION_RUST)
    path.chmod(0)
    return Launch(paths=paths, command=[*request.getfixturevalue("without_read_override"), lint_ws_executable()])


def unreadable_file_named(tree: Path, request) -> Launch:
    # pre-commit names the files it lints.
    return unreadable_file(tree, request, "named.rs", (COMPANION, "named.rs"))


def directory_named_like_source(tree: Path, request) -> None:
    (tree / "x.py").mkdir()
    (tree / "x.py" / "inner.rs").write_text(CONNECTION_RUST)


def missing_path(tree: Path, request) -> Launch:
    return Launch(paths=(".", "missing.rs"))


def deleted_after_discovery(tree: Path, request) -> Launch:
    (tree / "deleted.rs").write_text(CONNECTION_RUST)
    command, env = launcher({"kind": "delete-after-discovery", "path": str(tree / "deleted.rs")})
    return Launch(command=command, env=env)


CASES = [
    file_case("not_utf8.rs", "error", b"fn main() {\n    let s = \"caf\xe9\";\n}\n", line=2),
    file_case("not_utf8.py", "error", CONNECTION_CODE.encode() + b"s = 'caf\xe9'\n", line=8),
    file_case("bom.py", "clean", b"\xef\xbb\xbf" + CONNECTION_CODE.encode()),
    file_case("bom.rs", "clean", b"\xef\xbb\xbf" + CONNECTION_RUST.encode()),
    file_case("latin1_cookie.py", "clean", ("# -*- coding: latin-1 -*-\n" + CONNECTION_CODE + "s = 'caf\xe9'\n").encode("latin-1")),
    file_case("bad_cookie.py", "error", b"# -*- coding: no-such-codec -*-\n" + CONNECTION_CODE.encode()),
    file_case("binary.rs", "error", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))),
    file_case("binary.py", "error", b"\x7fELF\x00\x01\x02\x03try_send put_nowait"),
    file_case("empty.py", "clean", b""),
    file_case("empty.rs", "clean", b""),
    file_case("comments.py", "clean", "# asyncio.QueueFull, put_nowait and ws.close() in prose only\n"),
    file_case("comments.rs", "clean", "// tx.try_send(msg) and abort() in prose only\n/* block */\n"),
    file_case("syntax_start.py", "error", "def broken(:\n" + CONNECTION_CODE, line=1),
    file_case("syntax_middle.py", "error", CONNECTION_CODE + "x = (]\n" + CONNECTION_CODE, line=8),
    file_case("syntax_end.py", "error", CONNECTION_CODE + "y = (\n", line=8),
    # tree-sitter recovers: a Rust file with error nodes is linted, not a syntax error.
    file_case("syntax_start.rs", "clean", "}}} fn g() {}\n" + CONNECTION_RUST),
    file_case("syntax_middle.rs", "clean", CONNECTION_RUST + "fn f() { let x = ; }\n" + CONNECTION_RUST),
    file_case("syntax_end.rs", "clean", CONNECTION_RUST + "fn f() {\n"),
    Case("generated.rs", "error", linked_generated_file),
    # CPython rejects 5,000 nested parentheses: that is the user's syntax error.
    file_case("deep.py", "error", CONNECTION_CODE + "x = " + "(" * DEEP + "1" + ")" * DEEP + "\n", line=8),
    file_case("deep.rs", "clean", "fn f() { let x = " + "(" * DEEP + "1" + ")" * DEEP + "; tx.try_send(x); }\n"),
    # Valid Python past libcst's limits: a warning naming the parser limit, exit code unchanged.
    file_case("unary.py", "warning", CONNECTION_CODE + "x = " + "-" * 10_000 + "1\n"),
    file_case("long_line.py", "clean", CONNECTION_CODE + "s = '" + "x" * LONG_LINE + "'\n"),
    file_case("long_line.rs", "clean", "fn f() { let s = \"" + "x" * LONG_LINE + "\"; tx.try_send(s); }\n"),
    Case("dangling.rs", "error", dangling_symlink, says="dangling symbolic link"),
    Case("loop_a.rs", "error", symlink_loop, says="symbolic link loop"),
    Case("secret.rs", "error", unreadable_file),
    Case("named.rs", "error", unreadable_file_named),
    Case("x.py", "clean", directory_named_like_source),
    Case("missing.rs", "error", missing_path),
    Case("deleted.rs", "error", deleted_after_discovery),
]


@pytest.fixture(scope="module")
def generated_20mb(tmp_path_factory) -> Path:
    """One 20 MB generated Rust file per module; the cases hard-link it into their tree."""
    path = tmp_path_factory.mktemp("generated") / "generated.rs"
    line = b"static X: u8 = 0; // tx.try_send(x)\n"
    path.write_bytes(line * (GENERATED_BYTES // len(line)))
    return path


@pytest.fixture(scope="module")
def without_read_override(tmp_path_factory) -> list[str]:
    """A command prefix under which a mode-000 file cannot be read. root reads anything
    (CAP_DAC_OVERRIDE), so as root the process runs without that capability."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    capabilities = "-dac_override,-dac_read_search"
    prefix = [setpriv, f"--inh-caps={capabilities}", f"--bounding-set={capabilities}"]
    probe = tmp_path_factory.mktemp("probe") / "secret"
    probe.write_text("x")
    probe.chmod(0)
    if subprocess.run([*prefix, "cat", str(probe)], capture_output=True).returncode == 0:
        pytest.skip("setpriv cannot drop root's read override here")
    return prefix


def tree_state(tree: Path) -> dict[str, tuple]:
    """What a run must not change: every entry's kind, size, mode and modification time."""
    state = {}
    for path in sorted(tree.rglob("*")):
        status = path.lstat()
        state[path.relative_to(tree).as_posix()] = (status.st_mode, status.st_size, status.st_mtime_ns)
    return state


def problem_lines(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if name in line]


@pytest.mark.parametrize("format_name", sorted(FORMATS))
@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_bad_input_matrix(tmp_path, request, case, format_name):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / COMPANION).write_text(COMPANION_SOURCE)
    launch = case.build(tree, request) or Launch()
    before = tree_state(tree)
    result = run_cli(
        "check", "--no-show-source", "--format", format_name, *launch.paths,
        cwd=tree, command=launch.command, env={"LINT_WS_CACHE_DIR": str(tmp_path / "cache"), **launch.env},
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == (2 if case.outcome == "error" else 1), result.stderr
    if case.name != "deleted.rs":
        assert tree_state(tree) == before, "the run changed files"

    # One line on stderr names the file (and the line of a syntax error), whatever the format.
    named = problem_lines(result.stderr, case.name)
    if case.outcome == "clean":
        assert named == [], result.stderr
    else:
        assert len(named) == 1, result.stderr
        assert case.outcome in named[0] or case.name == "missing.rs", named
        if case.line is not None:
            assert f"{case.name}:{case.line}: " in named[0]
        assert case.says in named[0]
    assert_format_reports(format_name, result.stdout, case, request)


def assert_format_reports(format_name: str, output: str, case: Case, request) -> None:
    """The companion's finding is in the report, and so is the case's problem if any (some
    cases' files have findings of their own)."""
    expected = [] if case.outcome == "clean" else [case.outcome]
    if format_name == "text":  # problems go to stderr, beside the summary
        assert f"{COMPANION}:{COMPANION_FINDING_LINE}:" in output
    elif format_name == "json":
        report = json.loads(output)
        assert COMPANION in [f["path"] for f in report["findings"]]
        errors = [e for e in report["errors"] if e["path"] == case.name]
        assert [e["severity"] for e in errors] == expected, report["errors"]
        assert all(e["line"] == case.line for e in errors)
    elif format_name == "github":
        lines = output.splitlines()
        assert any(line.startswith("::") and f"file={COMPANION}," in line for line in lines)
        problems = [line for line in lines if f"file={case.name}," in line and "title=lint-ws%3A file not fully analysed" in line]
        assert [line.split(" ", 1)[0] for line in problems] == [f"::{level}" for level in expected], output
    else:
        log = json.loads(output)
        assert_valid(request.getfixturevalue("sarif_validator"), log)
        assert_consistent(log)
        (run,) = log["runs"]
        assert COMPANION in [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
        notifications = [
            n["level"]
            for n in run["invocations"][0].get("toolExecutionNotifications", [])
            if n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == case.name and n["level"] != "note"
        ]
        assert notifications == expected


def test_directory_named_like_a_source_file_given_explicitly(tmp_path):
    (tmp_path / "x.rs").mkdir()
    result = run_cli("check", "x.rs", cwd=tmp_path)
    assert result.returncode == 0 and "0 files" in result.stderr


def test_a_file_just_over_the_size_limit_is_skipped_with_a_message(tmp_path):
    (tmp_path / "good.rs").write_text(GOOD_RUST)
    (tmp_path / "huge.rs").write_bytes(b"// padding\n" * (MAX_FILE_BYTES // 11 + 1))
    result = run_cli("check", "--no-show-source", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert len(problem_lines(result.stderr, "huge.rs")) == 1 and "2 files" in result.stderr


def test_a_dying_worker_process_is_reported_per_file_not_as_a_traceback(tmp_path, monkeypatch):
    files = []
    for index in range(16):
        path = tmp_path / f"f{index:02}.rs"
        path.write_text(GOOD_RUST)
        files.append((path, path.name))
    real_lint_file = engine.lint_file

    def crash_on_f07(path, display, options, raw=None, cache=None):
        if display == "f07.rs":
            os._exit(1)  # what a segfault in a native parser looks like to the pool
        return real_lint_file(path, display, options, raw=raw, cache=cache)

    monkeypatch.setattr(engine, "lint_file", crash_on_f07)  # forked workers inherit it
    result = engine.run(files, engine.RunOptions(frozenset({"WS001"})), jobs=2)
    assert sorted(r.path for r in result.files) == [name for _, name in files]
    lost = [p.path for p in result.problems if p.message == engine.WORKER_DIED]
    assert "f07.rs" in lost and result.failed
