"""The Python front end's node positions, computed one top-level statement at a time, are
libcst's ``PositionProvider`` ranges for the whole module, for every node of every Python
fixture and bundled example, and of any text in the rules' shapes."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from libcst.metadata import MetadataWrapper, PositionProvider

from source_strategies import python_sources
from lint_ws.python.frontend import ModuleLayout
from lint_ws.python.model import child_nodes

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("examples/python/*.py")])
# Line endings and layout the provider counts: CRLF, lone CR, a header comment, no final
# newline, a decorated class, a comment after a dedent, a form feed.
LAYOUTS = [
    "# header\n\nimport a\r\nx = 1\r\n\r\ndef f():\r\n    return (1,\r\n        2)\r\n",
    "x = 1\ry = [\r  2]\rdef g(): pass",
    "@dec\nclass C:\n    def m(self):\n        pass\n    # owned by the block\n# by the next statement\n\x0cz = '''a\nb'''\n",
    "",
    "# only a comment",
]


def assert_same_positions(module: cst.Module) -> None:
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    layout = ModuleLayout(module)
    stack: list[cst.CSTNode] = list(module.body)
    checked = 0
    while stack:
        node = stack.pop()
        assert layout.position(node) == expected[node], module.code_for_node(node)
        checked += 1
        stack.extend(child_nodes(node))
    assert checked >= len(module.body)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_positions_of_every_node_match_the_whole_module_provider(path):
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError:
        pytest.skip("a fixture of bad input")
    assert_same_positions(module)


@pytest.mark.parametrize("text", LAYOUTS)
def test_positions_match_on_every_layout(text):
    assert_same_positions(cst.parse_module(text))


def test_a_node_outside_the_statements_gets_the_whole_module_ranges():
    module = cst.parse_module("# header\n\nx = 1\n")
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    layout = ModuleLayout(module)
    assert layout.position(module.header[0]) == expected[module.header[0]]
    assert layout.position(module.body[0]) == expected[module.body[0]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(python_sources(max_lines=30))
def test_positions_match_on_rule_shaped_text(source):
    try:
        module = cst.parse_module(source.decode())
    except cst.ParserSyntaxError:
        return
    assert_same_positions(module)


def test_statement_at_finds_each_statement_start():
    text = "import a\n\n# lead\ndef f():\n    pass\nx = 1\n"
    module = cst.parse_module(text)
    layout = ModuleLayout(module)
    offset = 0
    for statement in module.body:
        code = module.code_for_node(statement)
        for inside in (offset, offset + len(code) - 1):
            assert layout.statement_at(inside) == (statement, offset)
        offset += len(code)
