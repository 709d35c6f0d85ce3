"""Inline allow comments: which findings they suppress, in Rust and Python, in every format.

The rules themselves are replaced by test rules that flag plain text patterns, so these
tests pin down the suppression mechanics whatever the real rules decide.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from lint_ws import engine, registry, reporters
from lint_ws.catalogue import all_rules
from lint_ws.cli import cli
from lint_ws.findings import Finding, Severity
from lint_ws.suppression import AllowCommentProblem

FIXTURES = Path(__file__).parent / "fixtures" / "suppression"

# The receiver is part of the pattern, so comments that mention `.abort()` are not flagged.
TEST_PATTERNS = {
    "WS001": re.compile(r"\w+\.(?:try_send|put_nowait)\("),
    "WS002": re.compile(r"\w+\.(?:abort|cancel)\(\)"),
    "WS004": re.compile(r"\w+\.send\("),
}


def _text_rule(rule_id: str):
    def check(context):
        source = context.source
        for match in TEST_PATTERNS[rule_id].finditer(source.text):
            span = source.span_from_offsets(match.start(), match.end())
            yield Finding(rule_id, source.path, span, f"test finding {rule_id}")

    return check


@pytest.fixture
def test_rules(monkeypatch, tmp_path_factory):
    """Replace the registered rules by the text-pattern test rules.

    Their findings must not reach the user's results cache, nor real cached ones reach them.
    """
    monkeypatch.setenv("LINT_WS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))

    for rule_id in TEST_PATTERNS:
        module = types.ModuleType(f"lint_ws_test_text_rule_{rule_id}")
        module.check = _text_rule(rule_id)
        monkeypatch.setitem(sys.modules, module.__name__, module)
    prefilter = registry.Prefilter(triggers=("abort", "cancel", "send", "put_nowait"))

    def checks_for(language, selected):
        return [
            registry.RuleCheck(rule_id, language, f"lint_ws_test_text_rule_{rule_id}", prefilter)
            for rule_id in sorted(selected)
            if rule_id in TEST_PATTERNS
        ]

    monkeypatch.setattr(registry, "checks_for", checks_for)


def run_check(*args: str, cwd: Path):
    """``lint-ws check ARGS`` in-process (so the test rules apply), from ``cwd``."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["check", "--jobs", "1", *args], prog_name="lint-ws")
    finally:
        os.chdir(previous)


def lint(path: Path, **options) -> engine.FileResult:
    return engine.lint_file(path, path.name, engine.RunOptions(frozenset(all_rules()), **options))


def expectations(path: Path) -> dict[int, set[bool]]:
    """Line -> the suppressed states its findings must have, from the [suppressed]/[reported] marks."""
    expected = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        states = {True for _ in re.finditer(r"\[suppressed\]", line)} | {False for _ in re.finditer(r"\[reported\]", line)}
        if states:
            expected[number] = states
    return expected


@pytest.mark.parametrize("name", ["allow.rs", "allow.py"])
def test_allow_comments_suppress_exactly_the_marked_findings(test_rules, name):
    path = FIXTURES / name
    result = lint(path)
    actual: dict[int, set[bool]] = {}
    for finding in result.findings:
        actual.setdefault(finding.span.start_line, set()).add(finding.suppressed)
    assert actual == expectations(path)


@pytest.mark.parametrize("name", ["allow.rs", "allow.py"])
def test_malformed_allow_comments_are_warnings_with_their_line(test_rules, name):
    path = FIXTURES / name
    lines = path.read_text(encoding="utf-8").splitlines()
    function = next(i for i, line in enumerate(lines) if "malformed_allow_suppresses_nothing" in line)
    problems = lint(path).problems
    # The three lines after the function's header carry the malformed allow comments.
    assert [(p.line, p.severity) for p in problems] == [
        (function + 2, Severity.WARNING),
        (function + 3, Severity.WARNING),
        (function + 4, Severity.WARNING),
    ]
    assert all("malformed lint-ws allow comment, ignored" in p.message for p in problems)
    assert all(isinstance(p, AllowCommentProblem) for p in problems)


RUST_UNKNOWN = "fn f(h: JoinHandle<()>) {\n    h.abort(); // lint-ws: allow(WS002, WS999)\n}\n"
PYTHON_UNKNOWN = "def f(task):\n    task.cancel()  # lint-ws: allow[WS999]\n"


@pytest.mark.parametrize(("name", "text", "suppressed"), [("a.rs", RUST_UNKNOWN, True), ("a.py", PYTHON_UNKNOWN, False)])
def test_unknown_rule_id_is_a_warning_naming_it(test_rules, tmp_path, name, text, suppressed):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = lint(path)
    assert [f.suppressed for f in result.findings] == [suppressed]
    [problem] = result.problems
    assert problem.line == 2 and problem.severity is Severity.WARNING
    assert "unknown rule id WS999" in problem.message


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


MIXED = {
    "conn.rs": (
        "fn teardown(h: JoinHandle<()>, g: JoinHandle<()>) {\n"
        "    h.abort(); // lint-ws: allow(WS002)\n"
        "    g.abort();\n"
        "}\n"
    ),
    "conn.py": (
        "def teardown(first, second):\n"
        "    # lint-ws: allow[WS002]\n"
        "    first.cancel()\n"
        "    second.cancel()\n"
    ),
}


def test_text_output_hides_suppressed_findings(test_rules, tmp_path):
    result = run_check("--format", "text", ".", cwd=write(tmp_path, MIXED))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "conn.py:4:5: WS002 test finding WS002",
        "conn.rs:3:5: WS002 test finding WS002",
    ]
    assert "2 findings in 2 files." in result.stderr


def test_json_output_lists_suppressed_findings_apart(test_rules, tmp_path):
    result = run_check("--format", "json", ".", cwd=write(tmp_path, MIXED))
    document = json.loads(result.stdout)
    assert [(f["path"], f["location"]["start"]["line"]) for f in document["findings"]] == [("conn.py", 4), ("conn.rs", 3)]
    assert [(f["path"], f["location"]["start"]["line"], f["suppressed"]) for f in document["suppressed"]] == [
        ("conn.py", 3, True),
        ("conn.rs", 2, True),
    ]


@pytest.mark.skipif("sarif" not in reporters.FORMATS, reason="the SARIF reporter is not registered yet")
def test_sarif_output_keeps_suppressed_findings_as_in_source_suppressions(test_rules, tmp_path):
    result = run_check("--format", "sarif", ".", cwd=write(tmp_path, MIXED))
    [run] = json.loads(result.stdout)["runs"]
    located = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
        for r in run["results"]
    }
    assert set(located) == {("conn.py", 3), ("conn.py", 4), ("conn.rs", 2), ("conn.rs", 3)}
    assert located[("conn.rs", 2)]["suppressions"] == [{"kind": "inSource"}]
    assert located[("conn.py", 3)]["suppressions"] == [{"kind": "inSource"}]
    assert not located[("conn.rs", 3)].get("suppressions")
    assert not located[("conn.py", 4)].get("suppressions")


@pytest.mark.skipif("github" not in reporters.FORMATS, reason="the GitHub reporter is not registered yet")
def test_github_output_hides_suppressed_findings(test_rules, tmp_path):
    result = run_check("--format", "github", ".", cwd=write(tmp_path, MIXED))
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    assert any("file=conn.rs,line=3," in line for line in annotations)
    assert any("file=conn.py,line=4," in line for line in annotations)


@pytest.mark.parametrize("format_name", sorted(reporters.FORMATS))
def test_all_findings_suppressed_exits_zero_in_every_format(test_rules, tmp_path, format_name):
    files = {
        "conn.rs": "fn f(h: JoinHandle<()>) {\n    h.abort(); // lint-ws: allow(WS002)\n}\n",
        "conn.py": "def f(task):\n    task.cancel()  # lint-ws: allow\n",
    }
    result = run_check("--format", format_name, ".", cwd=write(tmp_path, files))
    assert result.exit_code == 0, result.output
    assert "0 findings in 2 files." in result.stderr


UNUSED = {
    "conn.rs": (
        "fn f(h: JoinHandle<()>) {\n"
        "    h.abort(); // lint-ws: allow(WS002)\n"
        "    // lint-ws: allow(WS002, WS001)\n"
        "    h.abort();\n"
        "    drop(h); // lint-ws: allow(WS004)\n"
        "}\n"
    ),
    "conn.py": (
        "def f(task):\n"
        "    task.cancel()  # lint-ws: allow[WS002]\n"
        "    pass  # lint-ws: allow\n"
    ),
}


def test_unused_allows_are_not_reported_by_default(test_rules, tmp_path):
    result = run_check(".", cwd=write(tmp_path, UNUSED))
    assert result.exit_code == 0, result.output
    assert "unused" not in result.stderr


def test_report_unused_allows_names_each_unused_id_and_exits_1(test_rules, tmp_path):
    result = run_check("--report-unused-allows", ".", cwd=write(tmp_path, UNUSED))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""  # no finding is left: only the allow comments fail the run
    warnings = sorted(line for line in result.stderr.splitlines() if "unused" in line)
    assert warnings == [
        "lint-ws: conn.py:3: warning: unused lint-ws allow comment: no finding on this line",
        "lint-ws: conn.rs:3: warning: unused lint-ws allow comment: no WS001 finding on this line or the next",
        "lint-ws: conn.rs:5: warning: unused lint-ws allow comment: no WS004 finding on this line",
    ]
    assert "0 findings in 2 files." in result.stderr  # the files were fully analysed


def test_allows_for_rules_that_did_not_run_are_not_judged(test_rules, tmp_path):
    result = run_check("--report-unused-allows", "--select", "WS002", ".", cwd=write(tmp_path, UNUSED))
    # WS001 and WS004 did not run, and the bare allow may be for one of them.
    assert result.exit_code == 0, result.output
    assert "unused" not in result.stderr


def test_report_unused_allows_respects_exit_zero(test_rules, tmp_path):
    result = run_check("--report-unused-allows", "--exit-zero", ".", cwd=write(tmp_path, UNUSED))
    assert result.exit_code == 0
    assert "unused lint-ws allow comment" in result.stderr


def test_unused_allows_in_json_output(test_rules, tmp_path):
    result = run_check("--report-unused-allows", "--format", "json", ".", cwd=write(tmp_path, UNUSED))
    errors = json.loads(result.stdout)["errors"]
    assert {(e["path"], e["line"], e["severity"]) for e in errors} == {
        ("conn.py", 3, "warning"),
        ("conn.rs", 3, "warning"),
        ("conn.rs", 5, "warning"),
    }


def test_file_without_the_marker_skips_comment_scanning(test_rules, tmp_path, monkeypatch):
    from lint_ws import suppression

    def fail(*args):
        raise AssertionError("scanned a file without allow comments")

    monkeypatch.setattr(suppression, "parse_allows", fail)
    path = write(tmp_path, {"a.rs": "fn f(h: JoinHandle<()>) { h.abort(); }\n"}) / "a.rs"
    assert [f.suppressed for f in lint(path).findings] == [False]
