"""Property tests: whatever the input, lint-ws never crashes and is deterministic."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixture_expectations import FIXTURES, rule_fixture_files
from source_strategies import python_sources, rust_sources
from lint_ws import engine
from lint_ws.catalogue import all_rules

ALL_RULES = engine.RunOptions(frozenset(all_rules()))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

def lint_text(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    first = engine.lint_file(path, name, ALL_RULES)
    second = engine.lint_file(path, name, ALL_RULES)
    assert not any("internal error" in p.message for p in first.problems), first.problems
    assert first == second
    return first


@SETTINGS
@given(rust_sources())
def test_rust_shapes_never_crash(tmp_path, source):
    lint_text(tmp_path, "gen.rs", source)


@SETTINGS
@given(python_sources())
def test_python_shapes_never_crash(tmp_path, source):
    lint_text(tmp_path, "gen.py", source)


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(tmp_path, text):
    lint_text(tmp_path, "any.rs", text.encode("utf-8", "surrogatepass"))
    lint_text(tmp_path, "any.py", text.encode("utf-8", "surrogatepass"))


FIXTURE_BYTES = [path.read_bytes() for path in rule_fixture_files()] or [b"fn main() {}\n"]
FIXTURE_SUFFIXES = [path.suffix for path in rule_fixture_files()] or [".rs"]


@SETTINGS
@given(
    st.integers(min_value=0, max_value=len(FIXTURE_BYTES) - 1),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=40)), max_size=3),
)
def test_mutated_fixtures_never_crash(tmp_path, index, flips, cuts):
    data = bytearray(FIXTURE_BYTES[index])
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    for position, length in cuts:
        if data:
            start = position % len(data)
            del data[start : start + length]
    lint_text(tmp_path, "mutated" + FIXTURE_SUFFIXES[index], bytes(data))


def test_results_do_not_depend_on_jobs_or_order(tmp_path):
    files = [(path, path.relative_to(FIXTURES).as_posix()) for path in rule_fixture_files()]
    assert files, "no rule fixtures to run over"
    serial = engine.run(files, ALL_RULES, jobs=1)
    parallel = engine.run(list(reversed(files)), ALL_RULES, jobs=2)
    assert serial.findings == parallel.findings
    assert serial.problems == parallel.problems
