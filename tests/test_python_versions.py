"""SPEC section 6: Python syntax is judged by the newest Python, not by the interpreter
lint-ws runs on. Under Python 3.11 (CI here), 3.12 and 3.13 code (PEP 695 generics and
``type`` aliases, PEP 696 defaults, PEP 701 f-strings) and 3.11's ``except*`` is parsed and
linted; only what no Python accepts is a syntax error. Run through the installed CLI."""

from __future__ import annotations

import ast
import re
import sys

import pytest

from cli_runner import REPO, run_cli
from fixture_expectations import FIXTURES, expected_findings

NEWER_SYNTAX_FIXTURES = sorted(FIXTURES.glob("python/WS*/bad_newer_python_syntax.py"))

# WS001's pattern, in a function the construct of each case surrounds or follows.
PUSH = (
    "async def push(ws, outbox: asyncio.Queue, item) -> None:\n"
    "    try:\n"
    "        outbox.put_nowait(item)\n"
    "    except asyncio.QueueFull:\n"
    "        await ws.close()\n"
)
CONSTRUCTS = {
    "pep695_class": "class Enqueuer[T]:\n    async def push(self, ws, outbox: asyncio.Queue, item: T) -> None:\n"
    "        try:\n            outbox.put_nowait(item)\n        except asyncio.QueueFull:\n            await ws.close()\n",
    "pep695_function": "async def push[T: (str, bytes)](ws, outbox: asyncio.Queue[T], item: T) -> None:\n"
    "    try:\n        outbox.put_nowait(item)\n    except asyncio.QueueFull:\n        await ws.close()\n",
    "type_alias": "type Outbox[T] = asyncio.Queue[T]\n\n\n" + PUSH,
    "pep696_default": "class Box[T = str]:\n    pass\n\n\n" + PUSH,
    "pep701_reused_quotes": "LABEL = f\"{ {'k': 'v'}[\"k\"]}\"\n\n\n" + PUSH,
    "pep701_nested": "LABEL = f\"{f\"{f\"{1 + 1}\"}\"}\"\n\n\n" + PUSH,
    "pep701_multiline": "LABEL = f\"{\n    1\n    + 1\n}\"\n\n\n" + PUSH,
    "except_star": "async def run(ws):\n    try:\n        await ws.recv()\n    except* OSError:\n        pass\n\n\n" + PUSH,
}
# The line of ``outbox.put_nowait`` in each case.
FINDING_LINE = {
    name: next(number for number, line in enumerate(text.splitlines(), start=1) if "put_nowait" in line)
    for name, text in CONSTRUCTS.items()
}


def host_accepts(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize("path", NEWER_SYNTAX_FIXTURES, ids=lambda p: p.parent.name)
def test_fixtures_in_newer_syntax_are_linted(path):
    relative = path.relative_to(REPO).as_posix()
    result = run_cli("check", "--no-show-source", "--select", path.parent.name, relative)
    found = {(int(line), rule) for line, rule in re.findall(r"^[^:]+:(\d+):\d+: (WS\d{3}) ", result.stdout, re.M)}
    assert found == expected_findings(path) and found
    assert result.returncode == 1, result.stderr
    assert "syntax" not in result.stderr and "libcst" not in result.stderr


def test_each_construct_is_parsed_and_linted(tmp_path):
    for name, text in CONSTRUCTS.items():
        (tmp_path / f"{name}.py").write_text("import asyncio\n\n\n" + text)
        if name != "except_star" and sys.version_info < (3, 12):
            assert not host_accepts(text), f"{name}: this Python accepts it; the case tests nothing"
    result = run_cli("check", "--no-show-source", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"{len(CONSTRUCTS)} findings in {len(CONSTRUCTS)} files;"), result.stderr
    found = set(re.findall(r"^(\w+)\.py:(\d+):\d+: WS001 ", result.stdout, re.M))
    assert found == {(name, str(FINDING_LINE[name] + 3)) for name in CONSTRUCTS}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # Invalid in every Python: an assignment to a call, an unclosed bracket.
        ("import asyncio\n\n\n" + PUSH + "\nf() = 1\n", 10),
        ("import asyncio\n\n\n" + PUSH + "\nx = [1,\n\ny = 2\n", 10),
        # Newer syntax does not excuse a genuine error, nor a CPython limit.
        ("import asyncio\n\n\n" + PUSH + "\nclass Box[T]:\n    def f(:\n        pass\n", None),
        ("import asyncio\n\n\n" + PUSH + "\nx = " + "(" * 300 + ")" * 300 + "\n", 10),
        # Escapes no Python decodes; libcst keeps a literal's text as it is written.
        ("import asyncio\n\n\n" + PUSH + "\nx = '\\u12'\n", 10),
        ("import asyncio\n\n\n" + PUSH + "\nx = b'\\xZ'\n", 10),
    ],
    ids=["assign-to-call", "unclosed-bracket", "newer-and-invalid", "nesting-limit", "unicode-escape", "bytes-escape"],
)
def test_code_no_python_accepts_is_a_syntax_error_with_its_line(tmp_path, text, line):
    (tmp_path / "bad.py").write_text(text)
    result = run_cli("check", "--no-show-source", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 2
    message = next(l for l in result.stderr.splitlines() if "bad.py" in l)
    assert re.match(r"^lint-ws: bad\.py:(\d+): error: syntax error: ", message), message
    if line is not None:
        assert message.startswith(f"lint-ws: bad.py:{line}:"), message
    assert "Traceback" not in result.stderr


def test_newer_syntax_libcst_cannot_reproduce_is_a_warning_not_an_error(tmp_path):
    """PEP 701 allows blanks after a conversion (``{x!r }``), which libcst drops: its
    positions would be wrong, so the file is valid but not linted."""
    (tmp_path / "blank.py").write_text("import asyncio\n\nLABEL = f\"{1!r }\"\n\n\n" + PUSH)
    result = run_cli("check", "--no-show-source", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert "blank.py: warning: valid Python that libcst cannot parse" in result.stderr


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python that rejects PEP 695")
def test_a_fix_must_not_make_a_file_need_a_newer_python():
    from lint_ws.python import frontend
    from lint_ws.source import SourceError, decode

    older = decode("m.py", b"class Box:\n    pass\n", "python")
    newer = decode("m.py", b"class Box[T]:\n    pass\n", "python")
    with pytest.raises(SourceError, match="accepted the original but not the fixed file"):
        frontend.parse_fixed(older, newer)
    assert frontend.parse_fixed(newer, newer).code == newer.text
    assert frontend.parse_fixed(older, older).code == older.text
