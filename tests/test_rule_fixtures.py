"""Every rule fixture: exactly the lines marked ``expect:`` are flagged, by that rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_expectations import (
    FIXTURES,
    expected_findings,
    fixture_rule,
    near_miss_count,
    package_fixture_files,
    rule_fixture_files,
)
from lint_ws import engine
from lint_ws.catalogue import all_rules

LANGUAGES = ("rust", "python")


def lint(path, selected, display=None):
    result = engine.lint_file(path, display or path.name, engine.RunOptions(selected=frozenset(selected)))
    assert result.problems == []
    return {(f.span.start_line, f.rule_id) for f in result.findings}


@pytest.mark.parametrize("path", rule_fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_flags_exactly_the_expected_lines(path):
    assert lint(path, {fixture_rule(path)}) == expected_findings(path)


@pytest.mark.parametrize("path", package_fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_package_fixture_flags_exactly_the_expected_lines(path):
    """A module of a fixture package, linted where it lies: its package's other modules
    (bases, helpers, callers) are part of what the rules know."""
    assert lint(path, {fixture_rule(path)}, display=str(path)) == expected_findings(path)


EXAMPLES = Path(__file__).parent.parent / "examples"
PREFILTER_CASES = [(path, frozenset({fixture_rule(path)})) for path in rule_fixture_files() + package_fixture_files()] + [
    (path, frozenset(all_rules())) for path in sorted(EXAMPLES.rglob("*")) if path.suffix in (".rs", ".py")
]


@pytest.mark.parametrize(
    ("path", "selected"), PREFILTER_CASES, ids=[str(path.relative_to(path.parents[2] if path.is_relative_to(EXAMPLES) else FIXTURES)) for path, _ in PREFILTER_CASES]
)
def test_prefilter_never_drops_a_finding(path, selected):
    """The text and syntax prefilters only skip work: with or without them, the same findings."""
    with_prefilter = engine.lint_file(path, str(path), engine.RunOptions(selected))
    without = engine.lint_file(path, str(path), engine.RunOptions(selected, prefilter=False))
    assert with_prefilter.findings == without.findings
    assert with_prefilter.findings or not expected_findings(path)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("rule_id", sorted(all_rules()))
def test_rule_has_enough_positive_and_near_miss_cases(language, rule_id):
    files = [  # not the .fixed snapshots
        p for p in rule_fixture_files() + package_fixture_files() if p.relative_to(FIXTURES).parts[:2] == (language, rule_id)
    ]
    positives = sum(len(expected_findings(p)) for p in files)
    near_misses = sum(near_miss_count(p) for p in files)
    assert positives >= 8, f"{language}/{rule_id}: {positives} positive cases"
    assert near_misses >= 8, f"{language}/{rule_id}: {near_misses} near-miss negatives"
