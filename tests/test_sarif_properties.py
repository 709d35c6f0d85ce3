"""Property test: whatever Rust and Python the rules' shapes generate, the SARIF log of a
run over them validates against the SARIF 2.1.0 schema and is byte-identical run to run."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from lint_ws import engine
from lint_ws.catalogue import all_rules
from lint_ws.reporters import Report
from source_strategies import python_sources, rust_sources
from test_sarif import assert_consistent, assert_valid, sarif_text, sarif_validator  # noqa: F401 (a fixture)

ALL_RULES = engine.RunOptions(frozenset(all_rules()))


def sarif_of(root: Path, names: list[str]) -> str:
    """Lint the files and render the SARIF log the way ``lint-ws check --format sarif`` does."""
    result = engine.run([(root / name, name) for name in names], ALL_RULES, jobs=1)
    report = Report(
        findings=result.findings,
        problems=result.problems,
        files_checked=len(names),
        root=root,
        rules=tuple(sorted(ALL_RULES.selected)),
    )
    return sarif_text(report)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rust=rust_sources(), python=python_sources())
def test_sarif_of_generated_sources_is_valid_and_deterministic(tmp_path, sarif_validator, rust, python):
    (tmp_path / "gen.rs").write_bytes(rust)
    (tmp_path / "gen.py").write_bytes(python)
    first = sarif_of(tmp_path, ["gen.py", "gen.rs"])
    log = json.loads(first)
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    assert sarif_of(tmp_path, ["gen.py", "gen.rs"]) == first
