"""SPEC section 6: bad input gets one line naming the file; the run goes on; no traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_runner import run_cli
from lint_ws import engine
from lint_ws.source import MAX_FILE_BYTES

GOOD_RUST = "fn main() {\n    println!(\"hello\");\n}\n"
# Files are parsed only when a selected rule may fire there, so the Python inputs of these
# tests carry connection code.
CONNECTION_CODE = "import asyncio\n\nasync def pump(ws, outbox, msg):\n    try:\n        outbox.put_nowait(msg)\n    except asyncio.QueueFull:\n        await ws.close()\n"


def lint_tree(tmp_path: Path, *extra: str):
    (tmp_path / "good.rs").write_text(GOOD_RUST)
    return run_cli("check", "--no-show-source", *extra, ".", cwd=tmp_path)


def assert_one_line_error(result, name: str) -> None:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if name in line]
    assert len(lines) == 1, result.stderr
    assert "2 files" in result.stderr  # the good file was linted too


CASES = {
    "latin1.rs": "fn main() { let s = \"caf\xe9\"; }\n".encode("latin-1"),
    "binary.py": b"\x7fELF\x00\x01\x02\x03",
    "bad_syntax.py": CONNECTION_CODE.encode() + b"def broken(:\n    pass\n",
    "bad_cookie.py": b"# -*- coding: no-such-codec -*-\nx = 1\n",
}


@pytest.mark.parametrize("format_name", ["text", "json", "sarif", "github"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_undecodable_or_invalid_file_is_one_line_exit_2(tmp_path, name, format_name):
    (tmp_path / name).write_bytes(CASES[name])
    result = lint_tree(tmp_path, "--format", format_name, "-o", str(tmp_path / "report.out"))
    assert result.returncode == 2
    assert_one_line_error(result, name)
    if format_name != "text":  # text keeps problems on stderr, beside the summary
        assert name in (tmp_path / "report.out").read_text()


def test_a_one_megabyte_line_is_linted(tmp_path):
    (tmp_path / "long.py").write_text(CONNECTION_CODE + "s = '" + "x" * 1_000_000 + "'\n")
    (tmp_path / "long.rs").write_text("fn f() { let s = \"" + "x" * 1_000_000 + "\"; tx.try_send(s); }\n")
    result = lint_tree(tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "3 files" in result.stderr and "Traceback" not in result.stderr


def test_a_20_megabyte_generated_file_is_skipped_in_every_format(tmp_path):
    (tmp_path / "generated.rs").write_bytes(b"static X: u8 = 0;\n" * (20 * 1024 * 1024 // 18))
    for format_name in ("text", "json", "sarif", "github"):
        result = lint_tree(tmp_path, "--format", format_name)
        assert result.returncode == 2
        assert_one_line_error(result, "generated.rs")


def test_python_syntax_error_names_the_line(tmp_path):
    (tmp_path / "bad.py").write_text(CONNECTION_CODE + "y = (\n")
    result = lint_tree(tmp_path)
    assert result.returncode == 2
    assert "bad.py:8: error: syntax error" in result.stderr


def test_dangling_symlink_is_reported(tmp_path):
    os.symlink(tmp_path / "missing.rs", tmp_path / "dangling.rs")
    result = lint_tree(tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, "dangling.rs")


def test_directory_named_like_a_source_file_is_walked_not_read(tmp_path):
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text("x = 1\n")
    result = lint_tree(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 files" in result.stderr


def test_directory_named_like_a_source_file_given_explicitly(tmp_path):
    (tmp_path / "x.rs").mkdir()
    result = run_cli("check", "x.rs", cwd=tmp_path)
    assert result.returncode == 0 and "0 files" in result.stderr


def test_huge_file_is_skipped_with_a_message(tmp_path):
    (tmp_path / "huge.rs").write_bytes(b"// padding\n" * (MAX_FILE_BYTES // 11 + 1))
    result = lint_tree(tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, "huge.rs")


def test_empty_and_comment_only_files_are_valid_source(tmp_path):
    # An empty __init__.py is in every package: it is valid source, not bad input.
    (tmp_path / "__init__.py").write_bytes(b"")
    (tmp_path / "empty.rs").write_bytes(b"")
    (tmp_path / "comments.rs").write_text("// only a comment\n")
    result = lint_tree(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 files" in result.stderr


def test_rust_with_grammar_gaps_is_linted_not_an_error(tmp_path):
    (tmp_path / "gap.rs").write_text("fn f() { let x = ; }\nfn g() {}\n")
    result = lint_tree(tmp_path)
    assert result.returncode == 0, result.stderr


def test_deeply_nested_python_is_reported_without_traceback(tmp_path):
    (tmp_path / "deep.py").write_text(CONNECTION_CODE + "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    result = lint_tree(tmp_path)
    assert "Traceback" not in result.stderr
    assert_one_line_error(result, "deep.py")


def test_python_past_cpythons_parser_limits_is_a_warning_not_a_crash(tmp_path):
    # CPython runs out of memory on this valid expression; libcst would overflow its stack.
    (tmp_path / "unary.py").write_text(CONNECTION_CODE + "x = " + "-" * 10000 + "1\n")
    result = lint_tree(tmp_path)
    assert result.returncode == 0, result.stderr
    assert_one_line_error(result, "unary.py")
    assert "warning: valid Python that libcst cannot parse" in result.stderr


def test_deeply_nested_rust_is_linted_without_traceback(tmp_path):
    (tmp_path / "deep.rs").write_text("fn f() { let x = " + "(" * 5000 + "1" + ")" * 5000 + "; }\n")
    result = lint_tree(tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr


def test_valid_python_with_bom_and_latin1_cookie_is_linted(tmp_path):
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    (tmp_path / "latin.py").write_bytes("# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1"))
    result = lint_tree(tmp_path)
    assert result.returncode == 0, result.stderr


def test_missing_path_is_exit_2_and_the_rest_still_linted(tmp_path):
    result = lint_tree(tmp_path, "does-not-exist.rs")
    assert result.returncode == 2
    assert "does-not-exist.rs: no such file or directory" in result.stderr
    assert "1 file" in result.stderr


def test_unreadable_file_is_one_problem(tmp_path, monkeypatch):
    target = tmp_path / "secret.rs"
    target.write_text(GOOD_RUST)
    original = Path.read_bytes

    def deny(path):
        if path == target:
            raise PermissionError(13, "Permission denied")
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", deny)
    result = engine.lint_file(target, "secret.rs", engine.RunOptions(frozenset({"WS001"})))
    assert [p.render() for p in result.problems] == ["secret.rs: error: cannot read: Permission denied"]


def test_file_deleted_between_discovery_and_read(tmp_path):
    gone = tmp_path / "gone.rs"
    result = engine.lint_file(gone, "gone.rs", engine.RunOptions(frozenset({"WS001"})))
    assert result.problems[0].message == "file disappeared before it could be read"


def test_json_report_lists_the_errors(tmp_path):
    (tmp_path / "bad.py").write_text("def (:\n" + CONNECTION_CODE)
    result = lint_tree(tmp_path, "--format", "json")
    assert result.returncode == 2
    errors = json.loads(result.stdout)["errors"]
    assert [(e["path"], e["line"], e["severity"]) for e in errors] == [("bad.py", 1, "error")]


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
