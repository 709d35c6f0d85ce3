"""`--format github` workflow commands, and the composite GitHub Action in action.yml."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lint_ws.findings import Finding, Problem, Related, Severity, Span
from lint_ws.reporters import Report
from lint_ws.reporters.github import escape_data, escape_property, render

REPO = Path(__file__).resolve().parent.parent


def span(line: int, col: int, end_line: int, end_col: int) -> Span:
    return Span(line, col, end_line, end_col, 0, 0)


def github_lines(findings=(), problems=()) -> list[str]:
    stream = io.StringIO()
    render(Report(findings=list(findings), problems=list(problems), files_checked=1), stream)
    text = stream.getvalue()
    assert text == "" or text.endswith("\n")
    return text.splitlines()


COMMAND = re.compile(r"^::(?P<name>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def unescape(text: str) -> str:
    """What the Actions runner does to a command's escaped values."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Split a workflow command the way the runner does: on the first `::` after the
    properties, properties on `,` and `=`."""
    match = COMMAND.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    return match["name"], {key: unescape(value) for key, value in properties.items()}, unescape(match["message"])


def test_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"
    assert escape_property("dir,1/a:b%.py") == "dir%2C1/a%3Ab%25.py"
    assert escape_property("x\ny") == "x%0Ay"


def test_finding_becomes_an_annotation_with_full_position():
    finding = Finding(
        "WS001",
        "src/pump.rs",
        span(12, 9, 12, 31),
        "a full queue disconnects the peer",
        related=(Related(span(10, 5, 10, 20), "the try_send"),),
    )
    (line,) = github_lines([finding])
    assert line == (
        "::error file=src/pump.rs,line=12,col=9,endLine=12,endColumn=31,title=WS001 try-send-disconnect"
        "::a full queue disconnects the peer%0A  line 10:5: the try_send"
    )


def test_level_follows_the_rule_and_suppressed_findings_are_left_out():
    warning = Finding("WS004", "a.py", span(3, 5, 3, 20), "check then send")
    suppressed = Finding("WS001", "a.py", span(1, 1, 1, 2), "hidden", suppressed=True)
    (line,) = github_lines([suppressed, warning])
    name, properties, message = parse_command(line)
    assert name == "warning"
    assert properties["title"] == "WS004 check-then-send"
    assert message == "check then send"


def test_awkward_paths_and_messages_round_trip():
    finding = Finding("WS002", "we:ird, dir/100%.py", span(1, 2, 3, 4), "50% of\nframes: lost, [really]")
    (line,) = github_lines([finding])
    name, properties, message = parse_command(line)
    assert properties == {
        "file": "we:ird, dir/100%.py",
        "line": "1",
        "col": "2",
        "endLine": "3",
        "endColumn": "4",
        "title": "WS002 abort-without-close",
    }
    assert message == "50% of\nframes: lost, [really]"


def test_problems_become_annotations_by_severity():
    lines = github_lines(
        problems=[
            Problem("bad.py", "not valid utf-8: byte 0xff at offset 3", Severity.ERROR, 2),
            Problem("big.py", "parser limit", Severity.WARNING),
            Problem("odd.rs", "grammar gap", Severity.NOTE, 9),
        ]
    )
    parsed = [parse_command(line) for line in lines]
    assert [name for name, _, _ in parsed] == ["error", "warning", "notice"]
    assert parsed[0][1] == {"file": "bad.py", "line": "2", "title": "lint-ws: file not fully analysed"}
    assert parsed[0][2] == "not valid utf-8: byte 0xff at offset 3"
    assert "line" not in parsed[1][1]


def lint_ws_executable() -> Path:
    script = Path(sys.executable).parent / ("lint-ws.exe" if os.name == "nt" else "lint-ws")
    if not script.exists():
        pytest.skip(f"the lint-ws console script is not installed beside {sys.executable}")
    return script


def test_cli_github_format_annotates_unreadable_files(tmp_path):
    (tmp_path / "binary.py").write_bytes(b"\x00\x01")
    (tmp_path / "fine.py").write_text("x = 1\n", encoding="utf-8")
    completed = subprocess.run(
        [str(lint_ws_executable()), "check", "--format", "github", "--jobs", "1", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 2
    (line,) = completed.stdout.splitlines()
    name, properties, _ = parse_command(line)
    assert (name, properties["file"]) == ("error", "binary.py")


# --- action.yml ---


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def step(action: dict, step_id: str) -> dict:
    (found,) = [s for s in action["runs"]["steps"] if s.get("id") == step_id]
    return found


def test_action_is_a_composite_with_the_documented_inputs(action):
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert inputs["paths"]["default"] == "."
    assert inputs["format"]["default"] == "sarif"
    assert inputs["output"]["default"] == "lint-ws.sarif"
    assert inputs["args"]["default"] == ""
    assert inputs["fail-on-findings"]["default"] == "false"
    assert all(spec.get("description") for spec in inputs.values())
    assert step(action, "python")["uses"].startswith("actions/setup-python@")
    install = step(action, "install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]
    assert set(action["outputs"]) == {"exit-code", "output"}


def test_action_scripts_take_inputs_only_through_the_environment(action):
    """`${{ }}` inside a script is template injection; inputs must arrive as env vars."""
    for s in action["runs"]["steps"]:
        assert "${{" not in s.get("run", "")


def fake_lint_ws(directory: Path, exit_code: int) -> Path:
    """A stand-in for lint-ws that records its arguments, writes the report, and exits."""
    script = directory / "fake-lint-ws"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'printf "%s\\n" "$@" > "$ARGS_FILE"\n'
        'while [ $# -gt 0 ]; do if [ "$1" = --output ]; then echo "{}" > "$2"; fi; shift; done\n'
        f"exit {exit_code}\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def run_action_step(action: dict, tmp_path: Path, lint_ws: Path, **inputs: str) -> tuple[int, dict, list[str]]:
    """Run the action's "Run lint-ws" script with bash the way the runner does."""
    run = step(action, "run")
    defaults = {name: spec["default"] for name, spec in action["inputs"].items()}
    values = {**defaults, **inputs}
    environment = {key: value for key, value in os.environ.items() if not key.startswith("INPUT_")}
    for name, template in run["env"].items():
        if template.startswith("${{ inputs."):
            environment[name] = values[template[len("${{ inputs.") : -len(" }}")]]
    environment["LINT_WS"] = str(lint_ws)
    outputs = tmp_path / "github-output"
    outputs.write_text("", encoding="utf-8")
    environment["GITHUB_OUTPUT"] = str(outputs)
    environment["ARGS_FILE"] = str(tmp_path / "args")
    completed = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run["run"]],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    recorded = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    arguments = (tmp_path / "args").read_text(encoding="utf-8").splitlines()
    return completed.returncode, recorded, arguments


@pytest.mark.parametrize(
    ("lint_exit", "fail_on_findings", "step_exit"),
    [(0, "false", 0), (1, "false", 0), (1, "true", 1), (2, "false", 2), (2, "true", 2)],
)
def test_action_writes_the_report_before_judging_the_exit_code(action, tmp_path, lint_exit, fail_on_findings, step_exit):
    lint_ws = fake_lint_ws(tmp_path, lint_exit)
    code, outputs, arguments = run_action_step(action, tmp_path, lint_ws, **{"fail-on-findings": fail_on_findings})
    assert code == step_exit
    assert outputs == {"exit-code": str(lint_exit), "output": "lint-ws.sarif"}
    assert json.loads((tmp_path / "lint-ws.sarif").read_text(encoding="utf-8")) == {}
    assert arguments == ["check", "--format", "sarif", "--output", "lint-ws.sarif", "--", "."]


def test_action_passes_paths_and_args_and_keeps_annotations_in_the_log(action, tmp_path):
    lint_ws = fake_lint_ws(tmp_path, 0)
    code, outputs, arguments = run_action_step(
        action, tmp_path, lint_ws, format="github", paths="src  tests/data\nbenches\n", args="--select WS001,WS004 --exit-zero"
    )
    assert code == 0
    assert outputs["output"] == ""
    assert arguments == ["check", "--format", "github", "--select", "WS001,WS004", "--exit-zero", "--", "src", "tests/data", "benches"]


def test_action_runs_the_real_cli(action, tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    code, outputs, _ = run_action_step(action, tmp_path, lint_ws_executable_recording(tmp_path))
    assert code == 0 and outputs["exit-code"] == "0"
    log = json.loads((tmp_path / "lint-ws.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["tool"]["driver"]["name"] == "lint-ws"


def lint_ws_executable_recording(directory: Path) -> Path:
    """The installed lint-ws behind a wrapper that records its arguments like the fake."""
    wrapper = directory / "lint-ws-wrapper"
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        'printf "%s\\n" "$@" > "$ARGS_FILE"\n'
        f'exec "{lint_ws_executable()}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper
