"""Re-parsing an edited module (lint_ws.python.reparse) gives libcst's parse of the whole
text: the same tree, and the same statement offsets and lines, over random edits of every
Python fixture and bundled example."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lint_ws.python import reparse

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("examples/python/*.py")])
# What an edit inserts: code at any indentation, comments, blank lines, openers of blocks,
# brackets and strings that swallow what follows, line endings.
INSERTS = [
    "", "\n", "x = 1\n", "    y = 2\n", "  # comment\n", "# comment\n", "    # indented\n", "def g():\n",
    "    pass\n", "class K:\n", "if x:\n", "(", ")", "'''", '"', "\\\n", "\t", " ", "\r\n", "\r",
    "async def h(ws):\n    await ws.send(1)\n", "@decorator\n", "else:\n", "return\n", "\f",
]


def parse_text(text: str):
    try:
        return cst.parse_module(text)
    except Exception as error:  # noqa: BLE001 - the parser's failure is the answer here
        return error


def readable(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
        cst.parse_module(text)
    except (UnicodeDecodeError, cst.ParserSyntaxError):
        return None
    return text


TEXTS = [text for text in map(readable, SOURCES) if text is not None]


@pytest.fixture(autouse=True)
def kept_parses():
    reparse.remember(4)
    yield
    reparse.remember(0)


def assert_like_a_full_parse(text: str) -> None:
    module = reparse.parse("edited.py", text, parse_text)
    full = parse_text(text)
    if not isinstance(full, cst.Module):
        assert not isinstance(module, cst.Module)
        return
    assert isinstance(module, cst.Module)
    assert module.code == full.code
    assert module.deep_equals(full), "the spliced tree differs from libcst's parse of the whole text"
    assert reparse.module_starts(module) == reparse.module_starts(full)
    assert reparse.code_is(module, text) == (full.code == text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    # Several files end to end: most edits then fall between the first block and the last
    # statement, where the splice applies.
    st.lists(st.sampled_from(TEXTS), min_size=1, max_size=4).map(lambda texts: "\n".join(texts) + "\n"),
    st.lists(
        st.tuples(st.floats(0, 1), st.booleans(), st.integers(0, 40), st.lists(st.sampled_from(INSERTS), max_size=3)),
        min_size=1,
        max_size=6,
    ),
)
def test_edits_reparse_like_a_full_parse(text, edits):
    reparse.remember(0)
    reparse.remember(4)
    reparse.parse("edited.py", text, parse_text)
    for where, whole_lines, removed, inserted in edits:
        at = int(where * len(text))
        if whole_lines:  # a line added or removed, as editors mostly do: the text stays valid
            at = text.rfind("\n", 0, at) + 1
            removed = text.find("\n", at) + 1 - at if removed % 2 else 0
        text = text[:at] + "".join(inserted) + text[at + removed :]
        assert_like_a_full_parse(text)


def test_an_edit_inside_a_function_reuses_the_other_statements():
    text = "import a\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n\n\ndef h():\n    return 3\n"
    before = reparse.parse("edited.py", text, parse_text)
    after = reparse.parse("edited.py", text.replace("return 2", "return 22"), parse_text)
    assert after.body[0] is before.body[0] and after.body[3] is before.body[3]
    assert after.body[2] is not before.body[2]
    assert after.deep_equals(cst.parse_module(text.replace("return 2", "return 22")))


def test_nothing_is_kept_unless_asked():
    reparse.remember(0)
    text = "def f():\n    pass\n\n\ndef g():\n    pass\n\nx = 1\n"
    first = reparse.parse("edited.py", text, parse_text)
    assert reparse.parse("edited.py", text, parse_text) is not first


EDITS = ["# an edit\n", "\n", "    # an indented comment\n", "        await ws.send(data)\n", "x = 1\n", "    return\n"]


def test_findings_after_edits_equal_a_full_lint(tmp_path):
    """The engine's findings on an edited file are the same with the previous parse kept
    (as the language server keeps it) as without, for an edit at every few lines of the
    bundled examples."""
    from lint_ws import engine
    from lint_ws.catalogue import rule_ids

    (tmp_path / ".git").mkdir()  # no project above the scratch directory
    path = tmp_path / "edited.py"
    text = "".join(source.read_text(encoding="utf-8") for source in sorted(ROOT.glob("examples/python/*.py")))
    path.write_text(text, encoding="utf-8")
    options = engine.RunOptions(selected=rule_ids())
    lines = text.splitlines(keepends=True)
    compared = 0
    for index in range(1, len(lines), 4):
        edited = "".join([*lines[:index], EDITS[index % len(EDITS)], *lines[index:]]).encode()
        reparse.remember(4)
        engine.lint_file(path, path.name, options, raw=text.encode())
        kept = engine.lint_file(path, path.name, options, raw=edited)
        reparse.remember(0)
        full = engine.lint_file(path, path.name, options, raw=edited)
        assert (kept.findings, kept.problems) == (full.findings, full.problems), f"edit at line {index + 1}"
        compared += bool(full.findings)
    assert compared > 10


def test_findings_after_a_run_of_edits_equal_a_full_lint(tmp_path):
    """The answers kept from the statements an edit left alone (``reparse.kept``) carry over
    a run of edits one after the other, as an editor makes them, undone ones included: on
    the bundled examples and on every rule fixture."""
    from lint_ws import engine
    from lint_ws.catalogue import rule_ids

    (tmp_path / ".git").mkdir()
    path = tmp_path / "edited.py"
    options = engine.RunOptions(selected=rule_ids())
    examples = "".join(source.read_text(encoding="utf-8") for source in sorted(ROOT.glob("examples/python/*.py")))
    fixtures = [source.read_text(encoding="utf-8") for source in sorted(ROOT.glob("tests/fixtures/python/**/*.py"))]
    compared = 0
    for text in [examples, *fixtures]:
        texts = [text]
        for index in range(3, text.count("\n"), 9):
            lines = texts[-1].splitlines(keepends=True)
            texts.append("".join([*lines[:index], EDITS[index % len(EDITS)], *lines[index:]]))
        texts += texts[-2::-3]  # back through earlier versions
        reparse.remember(4)
        try:
            kept = [engine.lint_file(path, path.name, options, raw=version.encode()) for version in texts]
        finally:
            reparse.remember(0)
        for version, result in zip(texts, kept):
            full = engine.lint_file(path, path.name, options, raw=version.encode())
            assert (result.findings, result.problems) == (full.findings, full.problems)
            compared += bool(full.findings)
    assert compared > 50


def test_kept_answers_last_while_asked():
    """An answer is computed once while parses are kept, and carried to a file's next lint
    only when that lint asks for it again; with nothing kept, it is computed each time."""
    calls = []

    def answer(key):
        return reparse.kept(("test", key), lambda: calls.append(key) or key)

    reparse.remember(4)
    try:
        for asked in (["a", "b"], ["a"], ["a", "b"]):
            reparse.parse("kept.py", "x = 1\n", parse_text)
            for key in asked:
                answer(key)
                answer(key)
    finally:
        reparse.remember(0)
    assert calls == ["a", "b", "b"]  # "b" was not asked by the second lint, so it was dropped
    answer("a")
    answer("a")
    assert calls == ["a", "b", "b", "a", "a"]
