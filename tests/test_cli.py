"""The installed ``lint-ws`` entry point, run as a subprocess."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from cli_hooks import launcher
from cli_runner import REPO, cli_environment, lint_ws_executable, run_cli
from fixture_expectations import FIXTURES, expected_findings
from lint_ws import __version__
from lint_ws.catalogue import all_rules

CLEAN_RUST = "fn main() {}\n"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rule>WS\d{3}) (?P<message>.+)$")


def parse_lines(stdout: str) -> list[tuple[str, int, int, str]]:
    parsed = []
    for line in stdout.splitlines():
        match = LINE.match(line)
        assert match, f"not a finding line: {line!r}"
        parsed.append((match["path"], int(match["line"]), int(match["col"]), match["rule"]))
    return parsed


def test_version_and_module_entry_point():
    assert run_cli("--version").stdout.strip() == f"lint-ws, version {__version__}"
    module = subprocess.run([sys.executable, "-m", "lint_ws", "--version"], capture_output=True, text=True)
    assert module.stdout.strip() == f"lint-ws, version {__version__}"


def test_rule_lists_every_rule_of_the_catalogue():
    result = run_cli("rule")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(all_rules())


@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_rule_prints_the_full_doc(rule_id):
    result = run_cli("rule", rule_id.lower())
    assert result.returncode == 0
    for heading in ("## Why is this bad?", "## Example (Rust)", "## Example (Python)", "## Suppression"):
        assert heading in result.stdout


def test_unknown_rule_is_usage_error():
    result = run_cli("rule", "WS999")
    assert result.returncode == 2 and "unknown rule id WS999" in result.stderr


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_in_selection_is_exit_2(option, tmp_path):
    (tmp_path / "a.rs").write_text(CLEAN_RUST)
    result = run_cli("check", option, "WS001,WS042", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "WS042" in result.stderr and "Traceback" not in result.stderr


def test_clean_tree_exits_0_with_summary_on_stderr(tmp_path):
    (tmp_path / "a.rs").write_text(CLEAN_RUST)
    (tmp_path / "b.py").write_text("x = 1\n")
    result = run_cli("check", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.strip() == "0 findings in 2 files."


def rule_fixture_dirs():
    return sorted(p for p in FIXTURES.glob("*/WS*") if p.is_dir())


@pytest.mark.parametrize("directory", rule_fixture_dirs(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_directory_through_the_cli(directory):
    """Text output on a fixture directory: exactly the expected lines, sorted, exit 1."""
    relative = directory.relative_to(REPO).as_posix()
    result = run_cli("check", "--no-show-source", "--select", directory.name, relative)
    expected = sorted(
        (path.relative_to(REPO).as_posix(), line, rule)
        for path in directory.rglob("*")  # fixture crates and packages too
        if path.suffix in (".rs", ".py")
        for line, rule in expected_findings(path)
    )
    found = parse_lines(result.stdout)
    assert [(p, line, rule) for p, line, _, rule in found] == expected
    assert found == sorted(found)
    assert result.returncode == (1 if expected else 0), result.stderr


def test_examples_show_every_rule_in_both_languages():
    result = run_cli("check", "--no-show-source", "examples/")
    assert result.returncode == 1, result.stderr
    found = parse_lines(result.stdout)
    for language, suffix in (("rust", ".rs"), ("python", ".py")):
        rules = {rule for path, _, _, rule in found if path.endswith(suffix)}
        assert rules == set(all_rules()), f"{language} examples show {sorted(rules)}"
    assert all(path.startswith("examples/") for path, *_ in found)


def test_exit_zero_and_statistics():
    result = run_cli("check", "--exit-zero", "--statistics", "--no-show-source", "examples/")
    assert result.returncode == 0
    stats = [line.split() for line in result.stderr.splitlines() if re.match(r"^\s*\d+\s+WS\d{3}\s", line)]
    assert {row[1] for row in stats} == set(all_rules())
    assert sum(int(row[0]) for row in stats) == len(result.stdout.splitlines())


def test_select_and_ignore_narrow_the_rules():
    only = parse_lines(run_cli("check", "--no-show-source", "--select", "WS001", "examples/").stdout)
    assert only and {rule for *_, rule in only} == {"WS001"}
    rest = parse_lines(run_cli("check", "--no-show-source", "--ignore", "WS001", "examples/").stdout)
    assert rest and "WS001" not in {rule for *_, rule in rest}


def test_json_matches_text():
    text = parse_lines(run_cli("check", "--no-show-source", "examples/").stdout)
    document = json.loads(run_cli("check", "--format", "json", "examples/").stdout)
    from_json = [
        (f["path"], f["location"]["start"]["line"], f["location"]["start"]["column"], f["rule"])
        for f in document["findings"]
    ]
    assert from_json == text
    assert all(f["message"] for f in document["findings"])


def test_output_file(tmp_path):
    target = tmp_path / "report.json"
    result = run_cli("check", "--format", "json", "-o", str(target), "examples/")
    assert result.stdout == ""
    assert json.loads(target.read_text())["findings"]


def test_output_that_cannot_be_written_is_exit_2_without_a_traceback(tmp_path):
    directory = run_cli("check", "-o", str(tmp_path), "examples/")
    assert directory.returncode == 2 and "is a directory" in directory.stderr
    missing_parent = tmp_path / "no" / "report.json"
    result = run_cli("check", "--format", "json", "-o", str(missing_parent), "examples/")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"lint-ws: error: cannot write the report to {missing_parent}: No such file or directory"


def test_options_may_follow_paths_and_paths_may_follow_a_double_dash(tmp_path):
    (tmp_path / "a.rs").write_text(CLEAN_RUST)
    (tmp_path / "-b.rs").write_text(CLEAN_RUST)
    for arguments in (["a.rs", "--jobs", "1", "./-b.rs"], ["a.rs", "--select", "WS001", "--", "-b.rs"]):
        result = run_cli("check", *arguments, cwd=tmp_path)
        assert (result.returncode, result.stderr.strip()) == (0, "0 findings in 2 files."), arguments


def test_usage_errors_exit_2_with_usage(tmp_path):
    for arguments in (["bogus"], ["check", "--jobs", "0"], ["check", "--format", "xml"], ["check", "--nope"], ["check", "--format", "json", "--diff"]):
        result = run_cli(*arguments, cwd=tmp_path)
        assert result.returncode == 2, arguments
        assert result.stderr.startswith("Usage: lint-ws") and result.stderr.splitlines()[-1].startswith("Error: ")
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_no_command_shows_the_commands_and_exits_2(tmp_path):
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Usage: lint-ws [OPTIONS] COMMAND")
    assert re.findall(r"^  (\w+) ", result.stderr.split("Commands:")[1], re.M) == ["check", "rule", "server"]


@pytest.mark.parametrize("command", [["check"], ["rule"], []])
def test_help_lists_every_option(command):
    result = run_cli(*command, "-h")
    assert result.returncode == 0 and result.stdout.startswith(f"Usage: lint-ws {' '.join(command)}".rstrip())
    if command == ["check"]:
        for option in ("--format", "--output", "--select", "--ignore", "--exit-zero", "--jobs", "--no-cache",
                       "--statistics", "--no-show-source", "--fix", "--unsafe-fixes", "--diff", "--config",
                       "--report-unused-allows"):
            assert option in result.stdout, option


def test_show_source_frames_underline_the_call_and_label_related(tmp_path):
    result = run_cli("check", "--show-source", "examples/", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout
    lines = result.stdout.splitlines()
    headers = [i for i, line in enumerate(lines) if LINE.match(line)]
    assert headers
    for start, end in zip(headers, headers[1:] + [len(lines)]):
        frame = lines[start + 1 : end]
        assert any(re.match(r"^\s+\|\s+\^+", line) for line in frame), "\n".join(lines[start:end])
    assert any(re.match(r"^\s+\|\s+-+ \S", line) for line in lines), "no related location is labelled"


def test_no_source_frames_in_a_pipe_by_default():
    result = run_cli("check", "examples/")
    parse_lines(result.stdout)  # every line is a finding line


def test_paths_outside_the_working_directory_are_shown_as_given(tmp_path):
    result = run_cli("check", "--no-show-source", str(REPO / "examples"), cwd=tmp_path)
    found = parse_lines(result.stdout)
    assert found and all(path.startswith(str(REPO / "examples")) for path, *_ in found)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_the_run_with_one_line_and_exit_130(jobs, tmp_path):
    """SIGINT to the whole process group, as a terminal sends Ctrl-C, once the first files
    are linted: the workers leave it to the main process, which says so once."""
    for index in range(80):
        (tmp_path / f"conn{index}.rs").write_text("fn f(tx: Sender<u8>) { let _ = tx.try_send(1); }\n")
    command, env = launcher({"kind": "interrupt-after-first-batch"})
    result = subprocess.run(
        [*command, "check", "--no-cache", "--jobs", jobs, "."],
        cwd=tmp_path,
        env=cli_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # the test's own process group is not interrupted
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines() == ["lint-ws: interrupted"]


def complete(shell: str, words: str, cword: str) -> list[str]:
    """What click's completion of the installed script answers ``shell`` for ``words``."""
    env = {"_LINT_WS_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = run_cli(env=env)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout.splitlines()


RULE_NAMES = {rule_id: doc.name for rule_id, doc in all_rules().items()}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("lint-ws check --select ", sorted(all_rules())),
        ("lint-ws check --select ws00", sorted(all_rules())),
        # A comma-separated list: the part after the last comma is completed, the ids
        # already listed are not offered again.
        ("lint-ws check --select WS001,WS00", [f"WS001,{rule_id}" for rule_id in sorted(all_rules()) if rule_id != "WS001"]),
        ("lint-ws check --ignore WS005,WS002,", ["WS005,WS002,WS001", "WS005,WS002,WS003", "WS005,WS002,WS004"]),
        ("lint-ws check src --format ", ["github", "json", "sarif", "text"]),
        ("lint-ws check --format s", ["sarif"]),
        ("lint-ws rule WS00", sorted(all_rules())),
        ("lint-ws ", ["check", "rule", "server"]),
    ],
)
def test_bash_completion(words, expected):
    cword = str(len(words.split(" ")) - 1)
    assert complete("bash", words, cword) == [f"plain,{value}" for value in expected]


def test_zsh_completion_describes_each_rule():
    lines = complete("zsh", "lint-ws check --ignore WS001,", "3")
    triples = [tuple(lines[i : i + 3]) for i in range(0, len(lines), 3)]
    assert triples == [("plain", f"WS001,{rule_id}", RULE_NAMES[rule_id]) for rule_id in sorted(all_rules()) if rule_id != "WS001"]


def test_fish_completion_completes_the_word_being_typed():
    # fish passes the word being typed as COMP_CWORD, and in COMP_WORDS too.
    # click's fish answer format changed across 8.x (its fish script changed with it), so the
    # test reads the values and descriptions, not the layout.
    answer = "\n".join(complete("fish", "lint-ws check --select WS004,WS00", "WS004,WS00"))
    for rule_id in sorted(all_rules()):
        if rule_id == "WS004":
            assert "WS004,WS004" not in answer
        else:
            assert f"WS004,{rule_id}" in answer and RULE_NAMES[rule_id] in answer


@pytest.mark.parametrize(
    ("shell", "registration"),
    [
        ("bash", "complete -o nosort -F _lint_ws_completion lint-ws"),
        ("zsh", "compdef _lint_ws_completion lint-ws"),
        ("fish", 'complete --no-files --command lint-ws --arguments "(_lint_ws_completion)"'),
    ],
)
def test_completion_scripts_register_lint_ws(shell, registration):
    result = run_cli(env={"_LINT_WS_COMPLETE": f"{shell}_source"})
    assert result.returncode == 0 and registration in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_through_the_sourced_script():
    """What a bash user gets with ``eval "$(_LINT_WS_COMPLETE=bash_source lint-ws)"``."""
    script = (
        'eval "$(_LINT_WS_COMPLETE=bash_source "$LINT_WS")"\n'
        "COMP_WORDS=(lint-ws check --select WS001,WS00)\n"
        "COMP_CWORD=3\n"
        '_lint_ws_completion "$LINT_WS"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "-c", script], env=cli_environment({"LINT_WS": lint_ws_executable()}), capture_output=True, text=True, timeout=60
    )
    assert result.stdout.splitlines() == [f"WS001,{rule_id}" for rule_id in sorted(all_rules()) if rule_id != "WS001"], result.stderr
