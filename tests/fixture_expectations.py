"""Reading expectation comments out of fixture files.

Fixtures are single files or packages (directories of modules whose facts cross files).
A line that must be flagged ends with ``// expect: WS001`` (Rust) or ``# expect: WS001``
(Python); several ids are comma-separated. Each near-miss negative case is introduced by a
``// near-miss: why`` or ``# near-miss: why`` comment.
"""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"(?://|#)\s*expect:\s*(WS\d{3}(?:\s*,\s*WS\d{3})*)")
NEAR_MISS = re.compile(r"(?://|#)\s*near-miss:")


def expected_findings(path: Path) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            expected.update((number, rule.strip()) for rule in match.group(1).split(","))
    return expected


def near_miss_count(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if NEAR_MISS.search(line))


def rule_fixture_files() -> list[Path]:
    """Fixture files linted alone, and the files of fixture crates (a crate directory with
    its ``Cargo.toml`` under a rule's directory: facts across files)."""
    packages = set(package_fixture_files())
    return sorted(p for p in FIXTURES.glob("*/WS*/**/*") if p.suffix in (".rs", ".py") and p not in packages)


def package_fixture_files() -> list[Path]:
    """The modules of fixture packages (``python/<rule>/<package>/...``, a directory holding a
    ``pyproject.toml``): facts cross their modules, so each is linted in place."""
    return sorted(
        p for package in FIXTURES.glob("python/WS*/*/") if (package / "pyproject.toml").is_file()
        for p in package.rglob("*") if p.suffix in (".rs", ".py")
    )


def fixture_rule(path: Path) -> str:
    """The rule a fixture file is for: the rule directory it sits in."""
    return path.relative_to(FIXTURES).parts[1]
