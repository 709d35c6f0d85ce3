"""``[tool.lint-ws]`` / lint-ws.toml configuration: finding it, applying it, rejecting bad keys.

The rules are the text-pattern test rules of test_suppression (WS001 ``try_send``/
``put_nowait``, WS002 ``abort()``/``cancel()``, WS004 ``send``), so the tests pin down the
configuration whatever the real rules decide.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lint_ws import config, registry, reporters
from lint_ws.catalogue import all_rules
from test_suppression import run_check, test_rules  # noqa: F401 (test_rules is a fixture)

PROJECT = Path(__file__).parent / "fixtures" / "config" / "project"

# What the fixture's pyproject.toml leaves: WS001 and WS002 only, nothing from vendor/ or
# *_generated.py, no WS002 under tests/, nothing at all in .pyi stubs.
CONFIGURED = {
    ("src/conn.py", 2, "WS001"),
    ("src/conn.py", 4, "WS002"),
    ("src/conn.rs", 2, "WS001"),
    ("src/conn.rs", 3, "WS002"),
    ("tests/conn_checks.py", 2, "WS001"),
    ("tests/conn_checks.rs", 2, "WS001"),
}


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    (root / ".git").mkdir()  # the repository root: configuration discovery stops here
    return root


def findings(*args: str, cwd: Path) -> set[tuple[str, int, str]]:
    result = run_check("--format", "json", *args, cwd=cwd)
    assert result.exit_code in (0, 1), result.stderr
    document = json.loads(result.stdout)
    return {(f["path"], f["location"]["start"]["line"], f["rule"]) for f in document["findings"]}


def set_table(root: Path, table: str) -> None:
    (root / "pyproject.toml").write_text(f"[tool.lint-ws]\n{table}\n", encoding="utf-8")


def test_pyproject_configuration_applies_to_rust_and_python(test_rules, project):
    assert findings(".", cwd=project) == CONFIGURED


@pytest.mark.parametrize("format_name", sorted(reporters.FORMATS))
def test_every_output_format_leaves_out_what_the_configuration_excludes(test_rules, project, format_name):
    result = run_check("--format", format_name, ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    for path in ("src/conn.rs", "src/conn.py", "tests/conn_checks.rs", "tests/conn_checks.py"):
        assert path in result.stdout
    for path in ("vendor/", "schema_generated.py", "conn.pyi"):
        assert path not in result.stdout
    assert "6 findings in 5 files." in result.stderr  # conn.pyi is checked; it has nothing to report


def test_configuration_is_found_from_the_common_parent_of_the_paths(test_rules, project):
    outside = project.parent
    assert findings(str(project / "src"), str(project / "tests"), cwd=outside) == {
        (f"project/{path}", line, rule) for path, line, rule in CONFIGURED
    }


def test_configuration_is_found_from_a_subdirectory(test_rules, project):
    assert findings("conn.rs", "conn.py", cwd=project / "src") == {
        ("conn.py", 2, "WS001"),
        ("conn.py", 4, "WS002"),
        ("conn.rs", 2, "WS001"),
        ("conn.rs", 3, "WS002"),
    }


def test_pyproject_without_the_table_is_passed_over(test_rules, project):
    (project / "src" / "pyproject.toml").write_text('[project]\nname = "inner"\n', encoding="utf-8")
    assert ("src/conn.rs", 4, "WS004") not in findings("src", cwd=project)


def test_lint_ws_toml_wins_over_pyproject_in_the_same_directory(test_rules, project):
    (project / "lint-ws.toml").write_text('select = ["WS004"]\n', encoding="utf-8")
    assert findings("src", cwd=project) == {("src/conn.py", 3, "WS004"), ("src/conn.rs", 4, "WS004")}


def test_discovery_stops_at_the_repository_root(test_rules, project):
    nested = project / "nested"
    shutil.copytree(project / "src", nested)
    (nested / ".git").mkdir()
    # The project configuration is above nested's own repository: it does not apply.
    assert ("nested/conn.rs", 4, "WS004") in findings("nested", cwd=project)


def test_named_files_matching_exclude_are_not_linted(test_rules, project):
    # pre-commit names every staged file; an excluded one must not be linted either.
    result = run_check("vendor/lib.rs", "vendor/inner/lib.py", "src/schema_generated.py", cwd=project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "0 findings in 0 files." in result.stderr


def test_per_file_ignores_drop_rules_before_the_parse(project, monkeypatch):
    asked = []

    def checks_for(language, selected):
        asked.append(selected)
        return []

    monkeypatch.setattr(registry, "checks_for", checks_for)
    run_check("tests/conn_checks.rs", "src/conn.pyi", cwd=project)
    assert sorted(asked, key=len) == [frozenset(), frozenset({"WS001"})]


def test_command_line_select_overrides_configured_select_and_ignore(test_rules, project):
    set_table(project, 'select = ["WS001"]\nignore = ["WS002"]')
    assert findings("--select", "WS002", "src/conn.rs", "src/conn.py", cwd=project) == {
        ("src/conn.py", 4, "WS002"),
        ("src/conn.rs", 3, "WS002"),
    }


def test_command_line_ignore_adds_to_the_configuration(test_rules, project):
    assert findings("--ignore", "WS001", ".", cwd=project) == {("src/conn.py", 4, "WS002"), ("src/conn.rs", 3, "WS002")}


def test_configured_ignore_applies_to_the_default_selection(test_rules, project):
    set_table(project, 'ignore = ["WS001", "WS002"]')
    assert findings("src", cwd=project) == {("src/conn.py", 3, "WS004"), ("src/conn.rs", 4, "WS004")}


def test_explicit_config_file_replaces_discovery(test_rules, project, tmp_path):
    other = tmp_path / "lint-ws.toml"
    other.write_text('select = ["WS004"]\nexclude = ["conn.py"]\n', encoding="utf-8")
    # Globs are relative to the configuration file's directory: src/conn.py is below it.
    assert findings("--config", str(other), "src", cwd=project) == {("src/conn.rs", 4, "WS004")}


def test_explicit_pyproject_reads_its_tool_table(test_rules, project):
    assert findings("--config", "pyproject.toml", "src", cwd=project) == {
        item for item in CONFIGURED if item[0].startswith("src/")
    }


def test_report_unused_allows_from_configuration_and_command_line(test_rules, project):
    (project / "src" / "quiet.rs").write_text("fn f() {} // lint-ws: allow(WS001)\n", encoding="utf-8")
    set_table(project, "report-unused-allows = true")
    assert run_check("src/quiet.rs", cwd=project).exit_code == 1
    assert run_check("--no-report-unused-allows", "src/quiet.rs", cwd=project).exit_code == 0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('selct = ["WS001"]', "pyproject.toml: [tool.lint-ws]: unknown key 'selct'"),
        ('select = ["WS009"]', "pyproject.toml: [tool.lint-ws]: select: unknown rule id WS009"),
        ('ignore = ["WS001", "XY1"]', "pyproject.toml: [tool.lint-ws]: ignore: unknown rule id XY1"),
        ('per-file-ignores = { "tests/**" = ["WS042"] }', "per-file-ignores: tests/**: unknown rule id WS042"),
        ('select = "WS001"', "pyproject.toml: [tool.lint-ws]: select must be a list of rule ids"),
        ("exclude = [1]", "pyproject.toml: [tool.lint-ws]: exclude must be a list of strings"),
        ('per-file-ignores = ["tests/**"]', "pyproject.toml: [tool.lint-ws]: per-file-ignores must be a table"),
        ('report-unused-allows = "yes"', "pyproject.toml: [tool.lint-ws]: report-unused-allows must be true or false"),
        ("select = [", "pyproject.toml: invalid TOML"),
    ],
)
def test_bad_configuration_is_a_one_line_error_and_exit_2(test_rules, project, table, message):
    set_table(project, table)
    result = run_check("src", cwd=project)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("lint-ws: error: ") and message in line, line


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--config", "missing.toml"], "missing.toml: no such configuration file"),
        (["--config", "src/pyproject.toml"], "src/pyproject.toml: no [tool.lint-ws] table"),
    ],
)
def test_bad_config_option_is_a_one_line_error_and_exit_2(test_rules, project, arguments, message):
    (project / "src" / "pyproject.toml").write_text('[project]\nname = "inner"\n', encoding="utf-8")
    result = run_check(*arguments, "src", cwd=project)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line == f"lint-ws: error: {message}"


def test_lint_ws_toml_names_the_bad_key_without_a_table(project, monkeypatch):
    monkeypatch.chdir(project)
    (project / "lint-ws.toml").write_text("exclude = 3\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"^lint-ws.toml: exclude must be a list of strings$"):
        config.load(Path("lint-ws.toml"))


def test_no_configuration_runs_every_rule(tmp_path):
    (tmp_path / ".git").mkdir()
    found = config.resolve(None, [str(tmp_path)])
    assert found == config.Config()
    assert found.selected_rules(None, None) == frozenset(all_rules())
