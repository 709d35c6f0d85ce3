"""Applying fixes: --fix, --unsafe-fixes, --diff, and the fixture snapshots.

The machinery tests use test-only rules (registered over the real ones) that rewrite
marker names, so they do not depend on which real rules attach fixes.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_expectations import FIXTURES, fixture_rule, rule_fixture_files
from marker_rules import MARKER_RULES, SAFE
from marker_rules import install as install_marker_rules
from lint_ws import engine, fixes, registry
from lint_ws.cli import cli
from lint_ws.findings import Edit, Finding, Fix
from lint_ws.source import decode

SAMPLES = FIXTURES / "fixes"


@pytest.fixture
def marker_rules(monkeypatch):
    """Replace the registered rules by marker rules; call again to install other ones."""

    def install(rules=MARKER_RULES):
        install_marker_rules(rules, monkeypatch.setitem, monkeypatch.setattr)

    install()
    yield install
    registry.checks_for.cache_clear()  # the real rules again for the tests that follow


@pytest.fixture
def workdir(tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The results cache is keyed by rule ids, not by the rules' code: the test-only rules'
    # findings must not be served to, or from, runs with other rules.
    monkeypatch.setenv("LINT_WS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return tmp_path


def lint_ws(*args):
    """``lint-ws check ARGS`` in this process; stdout is kept as bytes too (``stdout_bytes``:
    a diff's CRLF lines must stay CRLF)."""
    return CliRunner().invoke(cli, ["check", "--jobs", "1", *args], prog_name="lint-ws")


def sample(name: str, directory: Path) -> Path:
    return Path(shutil.copy(SAMPLES / name, directory / name))


FIXED_CALL = "fixed_target(\n        1,\n    )"


# --- the edit algebra ---------------------------------------------------------------


def fix(start, end, replacement, applicability=SAFE):
    return Fix(f"replace {start}..{end}", applicability, (Edit(start, end, replacement),))


def test_fixes_apply_in_position_order_whatever_their_order_given():
    applied = fixes.apply_fixes("abcdef", [fix(4, 5, "E"), fix(0, 1, "A")])
    assert applied.text == "AbcdEf"
    assert len(applied.applied) == 2 and applied.overlapping == ()


def test_overlapping_and_touching_fixes_wait_for_a_later_pass():
    first, overlapping, touching, apart = fix(0, 3, "X"), fix(2, 4, "Y"), fix(3, 3, "Z"), fix(5, 6, "W")
    applied = fixes.apply_fixes("abcdefg", [apart, touching, overlapping, first])
    assert applied.text == "XdeWg"
    assert applied.applied == (first, apart)
    assert set(applied.overlapping) == {overlapping, touching}


def test_a_fix_with_several_edits_applies_all_or_nothing():
    wrap = Fix("wrap", SAFE, (Edit(1, 1, "["), Edit(4, 4, "]")))
    assert fixes.apply_fixes("abcdef", [wrap]).text == "a[bcd]ef"
    first = fix(0, 2, "AB")
    blocked = fixes.apply_fixes("abcdef", [wrap, first])
    assert blocked.text == "ABcdef"
    assert blocked.applied == (first,) and blocked.overlapping == (wrap,)


@pytest.mark.parametrize(
    "edits",
    [(Edit(2, 9, "x"),), (Edit(3, 1, "x"),), (Edit(0, 2, "x"), Edit(1, 3, "y")), (Edit(1, 1, "x"), Edit(1, 1, "y")), ()],
    ids=["past-the-end", "backwards", "self-overlapping", "two-insertions-at-one-offset", "no-edits"],
)
def test_malformed_fixes_are_never_applied(edits):
    applied = fixes.apply_fixes("abc", [Fix("bad", SAFE, edits)])
    assert applied.text == "abc" and len(applied.malformed) == 1


@st.composite
def text_and_fixes(draw):
    text = draw(st.text(alphabet="ab\n", max_size=30))
    offset = st.integers(min_value=0, max_value=len(text))
    edit = st.builds(lambda a, b, r: Edit(min(a, b), max(a, b), r), offset, offset, st.text(alphabet="XY", max_size=3))
    edits = st.lists(edit, min_size=1, max_size=3)
    return text, draw(st.lists(st.builds(lambda e: Fix("f", SAFE, tuple(e)), edits), max_size=6))


def _independently_applied(text: str, fixes_: tuple[Fix, ...]) -> str:
    for edit in sorted((e for f in fixes_ for e in f.edits), key=lambda e: (e.start_offset, e.end_offset), reverse=True):
        text = text[: edit.start_offset] + edit.replacement + text[edit.end_offset :]
    return text


@settings(max_examples=300, deadline=None)
@given(text_and_fixes())
def test_applied_fixes_never_touch_and_every_left_fix_has_a_reason(case):
    text, given_fixes = case
    applied = fixes.apply_fixes(text, given_fixes)
    assert sorted(map(id, applied.applied + applied.overlapping + applied.malformed)) == sorted(map(id, given_fixes))
    ranges = [(e.start_offset, e.end_offset) for f in applied.applied for e in f.edits]
    for fix_ in applied.applied:
        own = [(e.start_offset, e.end_offset) for e in fix_.edits]
        others = [r for r in ranges if r not in own or own.count(r) < ranges.count(r)]
        assert not any(a[0] <= b[1] and b[0] <= a[1] for a in own for b in others)
    for fix_ in applied.overlapping:
        assert any(
            e.start_offset <= other.end_offset and other.start_offset <= e.end_offset
            for e in fix_.edits
            for applied_fix in applied.applied
            for other in applied_fix.edits
        )
    assert applied.text == _independently_applied(text, applied.applied)


def test_replacement_text_takes_the_files_line_endings():
    assert fixes.apply_fixes("a\r\nb\r\n", [fix(0, 1, "x\ny")]).text == "x\r\ny\r\nb\r\n"
    assert fixes.apply_fixes("a\nb\r\n", [fix(0, 1, "x\r\ny")]).text == "x\ny\nb\r\n"


# --- --fix, --unsafe-fixes, --diff ------------------------------------------------------


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_fix_applies_only_safe_fixes(marker_rules, workdir, name):
    path = sample(name, workdir)
    result = lint_ws("--fix", "--select", "WS001,WS002", name)
    text = path.read_text(encoding="utf-8")
    assert FIXED_CALL in text and "risky_target(2)" in text
    assert result.exit_code == 1, result.output
    assert f"{name}:" in result.stdout and "marker risky_target" in result.stdout
    assert "marker safe_target" not in result.stdout  # only what remains is reported
    assert "1 fixed, 1 remaining; 1 more fixable with --unsafe-fixes" in result.stderr


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_unsafe_fixes_alone_applies_safe_and_unsafe_fixes(marker_rules, workdir, name):
    path = sample(name, workdir)
    result = lint_ws("--unsafe-fixes", "--select", "WS001,WS002", name)
    text = path.read_text(encoding="utf-8")
    assert FIXED_CALL in text and "careful_target(2)" in text
    assert result.exit_code == 0, result.output
    assert "2 fixed, 0 remaining" in result.stderr


def test_without_fix_options_the_summary_says_what_is_fixable(marker_rules, workdir):
    path = sample("sample.py", workdir)
    before = path.read_bytes()
    result = lint_ws("--select", "WS001,WS002", "sample.py")
    assert path.read_bytes() == before
    assert result.exit_code == 1
    assert "1 fixable with --fix; 1 more fixable with --unsafe-fixes" in result.stderr


def _freeze(path: Path) -> tuple[bytes, int]:
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_diff_prints_what_fix_would_do_and_writes_nothing(marker_rules, workdir, unsafe):
    options = ["--unsafe-fixes"] if unsafe else []
    files = [sample("sample.py", workdir), sample("sample.rs", workdir)]
    frozen = [_freeze(path) for path in files]
    result = lint_ws("--diff", *options, "--select", "WS001,WS002", ".")
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == frozen
    assert result.exit_code == 1, result.output
    assert "+++ b/sample.py" in result.stdout and "+++ b/sample.rs" in result.stdout
    assert ("careful_target" in result.stdout) is unsafe
    expected_summary = (
        "4 findings in 2 files; 4 would be fixed, 0 would remain."
        if unsafe
        else "4 findings in 2 files; 2 would be fixed, 2 would remain; 2 more fixable with --unsafe-fixes."
    )
    assert expected_summary in result.stderr

    # The diff is a patch: applied, it gives exactly what --fix writes.
    patched = workdir / "patched"
    patched.mkdir()
    for path in files:
        shutil.copy(path, patched / path.name)
    subprocess.run(["git", "apply", "-"], input=result.stdout, text=True, cwd=patched, check=True)
    lint_ws(*(options or ["--fix"]), "--select", "WS001,WS002", ".")
    for path in files:
        assert (patched / path.name).read_bytes() == path.read_bytes()


def test_diff_of_a_crlf_file_with_bom_is_a_patch_too(marker_rules, workdir):
    path = workdir / "sample.py"
    path.write_bytes(codecs.BOM_UTF8 + (SAMPLES / "sample.py").read_bytes().replace(b"\n", b"\r\n"))
    patched = workdir / "patched"
    patched.mkdir()
    shutil.copy(path, patched / path.name)
    result = lint_ws("--diff", "--select", "WS001", "sample.py")
    subprocess.run(["git", "apply", "-"], input=result.stdout_bytes, cwd=patched, check=True, capture_output=True)
    lint_ws("--fix", "--select", "WS001", "sample.py")
    assert (patched / path.name).read_bytes() == path.read_bytes()


def test_diff_with_nothing_to_fix_prints_nothing_and_exits_0(marker_rules, workdir):
    sample("sample.py", workdir)
    result = lint_ws("--diff", "--select", "WS002", "sample.py")
    assert result.exit_code == 0 and result.stdout == ""


def test_diff_refuses_another_format(marker_rules, workdir):
    sample("sample.py", workdir)
    result = lint_ws("--diff", "--format", "json", "sample.py")
    assert result.exit_code == 2 and "--diff" in result.stderr


# --- keeping the file's encoding, BOM, line endings, mode -----------------------------


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_crlf_files_keep_crlf(marker_rules, workdir, name):
    lf = (SAMPLES / name).read_bytes()
    path = workdir / name
    path.write_bytes(lf.replace(b"\n", b"\r\n"))
    assert lint_ws("--fix", "--select", "WS001", name).exit_code == 0
    fixed = path.read_bytes()
    assert fixed.count(b"\n") == fixed.count(b"\r\n") > lf.count(b"\n")
    assert fixed.replace(b"\r\n", b"\n") == lf.replace(b"safe_target(1)", FIXED_CALL.encode())


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_bom_is_kept(marker_rules, workdir, name):
    body = (SAMPLES / name).read_bytes()
    path = workdir / name
    path.write_bytes(codecs.BOM_UTF8 + body)
    assert lint_ws("--fix", "--select", "WS001", name).exit_code == 0
    assert path.read_bytes() == codecs.BOM_UTF8 + body.replace(b"safe_target(1)", FIXED_CALL.encode())


LATIN_1 = "# -*- coding: latin-1 -*-\nGREETING = 'caf\u00e9'\nvalue = safe_target(1)\nother = risky_target(2)\n"


def test_latin_1_file_stays_latin_1(marker_rules, workdir):
    path = workdir / "legacy.py"
    path.write_bytes(LATIN_1.encode("latin-1"))
    assert lint_ws("--unsafe-fixes", "--select", "WS001,WS002", "legacy.py").exit_code == 0
    expected = LATIN_1.replace("safe_target(1)", FIXED_CALL).replace("risky_target", "careful_target")
    assert path.read_bytes() == expected.encode("latin-1")


def test_diff_of_a_latin_1_file_is_a_latin_1_patch_git_applies(marker_rules, workdir):
    path = workdir / "legacy.py"
    path.write_bytes(LATIN_1.encode("latin-1"))
    patched = workdir / "patched"
    patched.mkdir()
    shutil.copy(path, patched / path.name)
    result = lint_ws("--diff", "--unsafe-fixes", "--select", "WS001,WS002", "legacy.py")
    assert result.exit_code == 1
    assert "caf\u00e9".encode("latin-1") in result.stdout_bytes  # a context line, as the file has it
    subprocess.run(["git", "apply", "-"], input=result.stdout_bytes, cwd=patched, check=True, capture_output=True)
    lint_ws("--unsafe-fixes", "--select", "WS001,WS002", "legacy.py")
    assert (patched / path.name).read_bytes() == path.read_bytes()


def test_a_fix_the_files_encoding_cannot_hold_is_not_applied(marker_rules, workdir):
    marker_rules({"WS001": (r"safe_target", "s\u00fbr_\u20ac", SAFE), "WS002": MARKER_RULES["WS002"]})
    path = workdir / "legacy.py"
    path.write_bytes(LATIN_1.encode("latin-1"))
    result = lint_ws("--unsafe-fixes", "legacy.py")
    assert path.read_bytes() == LATIN_1.replace("risky_target", "careful_target").encode("latin-1")
    assert "legacy.py:3: warning: fix for WS001 not applied" in result.stderr and "iso-8859-1" in result.stderr
    assert result.exit_code == 1  # the finding whose fix was refused remains


def test_file_mode_is_kept(marker_rules, workdir):
    path = sample("sample.py", workdir)
    path.chmod(0o751)
    assert lint_ws("--fix", "--select", "WS001", "sample.py").exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert FIXED_CALL in path.read_text(encoding="utf-8")
    assert [p.name for p in workdir.iterdir()] == ["sample.py"]  # no temporary file left


def test_a_symbolic_link_still_points_at_the_fixed_file(marker_rules, workdir):
    target = sample("sample.py", workdir)
    link = workdir / "link.py"
    link.symlink_to(target.name)
    assert lint_ws("--fix", "--select", "WS001", "link.py").exit_code == 0
    assert link.is_symlink() and FIXED_CALL in target.read_text(encoding="utf-8")


def test_a_hard_linked_file_is_fixed_in_place_for_every_name(marker_rules, workdir):
    path = sample("sample.py", workdir)
    other = workdir / "other_name.py"
    os.link(path, other)
    inode = path.stat().st_ino
    assert lint_ws("--fix", "--select", "WS001", "sample.py").exit_code == 0
    assert path.stat().st_ino == inode and path.stat().st_nlink == 2
    assert FIXED_CALL in other.read_text(encoding="utf-8")
    assert sorted(p.name for p in workdir.iterdir()) == ["other_name.py", "sample.py"]  # no backup left


def test_a_hard_linked_file_whose_rewrite_fails_gets_its_original_back(tmp_path, monkeypatch):
    path = tmp_path / "linked.py"
    path.write_bytes(b"before\n")
    os.link(path, tmp_path / "twin.py")
    real_overwrite = fixes._overwrite
    attempts = []

    def fail_first(target, data):
        attempts.append(data)
        if len(attempts) == 1:
            with open(target, "r+b") as stream:
                stream.write(data[:3])  # half written, then the disk is full
            raise OSError(28, "No space left on device")
        real_overwrite(target, data)

    monkeypatch.setattr(fixes, "_overwrite", fail_first)
    with pytest.raises(fixes.WriteError, match="No space left on device"):
        fixes.write_atomically(path, b"before\n", b"after, a longer text\n")
    assert (tmp_path / "twin.py").read_bytes() == b"before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linked.py", "twin.py"]


def test_read_only_file_is_left_intact_with_a_one_line_error(marker_rules, workdir):
    read_only = sample("sample.py", workdir)
    writable = sample("sample.rs", workdir)
    before = read_only.read_bytes()
    read_only.chmod(0o444)
    result = lint_ws("--fix", "--select", "WS001", ".")
    assert result.exit_code == 2
    assert read_only.read_bytes() == before
    assert FIXED_CALL in writable.read_text(encoding="utf-8")  # the other files are still fixed
    errors = [line for line in result.stderr.splitlines() if "read-only" in line]
    assert errors == ["lint-ws: sample.py: error: file is read-only; fixes not written"]
    assert "sample.py:5:13: WS001" in result.stdout  # its finding is not fixed, so it is reported
    assert "Traceback" not in result.output


def test_a_file_changed_during_fixing_is_not_overwritten(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"changed = True\n")
    with pytest.raises(fixes.WriteError, match="changed while"):
        fixes.write_atomically(path, b"original = True\n", b"fixed = True\n")
    assert path.read_bytes() == b"changed = True\n"


# --- overlap, broken fixes, convergence ------------------------------------------------


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_overlapping_fixes_are_applied_over_several_passes(marker_rules, workdir, name):
    path = sample(name, workdir)
    result = lint_ws("--fix", "--select", "WS004,WS005", name)
    assert "ALPHA_BETA(3)" in path.read_text(encoding="utf-8")
    assert result.exit_code == 0 and "2 fixed, 0 remaining" in result.stderr


BREAKING = {
    "sample.py": ("    return value, other, both\n", "    return value, other, both\n\n\nbroken = break_me\n"),
    "sample.rs": ("    (value, other, both)\n", "    let broken = break_me;\n    (value, other, both)\n"),
}


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_a_fix_that_breaks_parsing_is_not_applied_and_reported(marker_rules, workdir, name):
    old, new = BREAKING[name]
    path = workdir / name
    path.write_text((SAMPLES / name).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = lint_ws("--fix", "--select", "WS001,WS003", name)
    text = path.read_text(encoding="utf-8")
    assert FIXED_CALL in text and "break_me" in text  # the good fix is kept, the bad one is not
    assert re.search(rf"^lint-ws: {name}:\d+: warning: fix for WS003 not applied", result.stderr, re.M), result.stderr
    assert "marker break_me" in result.stdout
    assert "not fully analysed" not in result.stderr  # the file was analysed; a fix was refused
    assert result.exit_code == 1


def test_diff_reports_a_refused_fix_too(marker_rules, workdir):
    old, new = BREAKING["sample.py"]
    path = workdir / "sample.py"
    path.write_text((SAMPLES / "sample.py").read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = lint_ws("--diff", "--select", "WS001,WS003", "sample.py")
    assert "+    value = fixed_target(" in result.stdout and "break_me" not in result.stdout
    assert "warning: fix for WS003 not applied" in result.stderr


def test_rust_grammar_gaps_elsewhere_do_not_block_a_fix(marker_rules, workdir):
    path = sample("sample.rs", workdir)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("fn gap() { let x = ; }\n")
    assert lint_ws("--fix", "--select", "WS001", "sample.rs").exit_code == 0
    assert FIXED_CALL in path.read_text(encoding="utf-8")


def test_a_fix_that_never_settles_stops_with_a_warning(marker_rules, workdir):
    marker_rules({"WS001": (r"safe_target", "safe_target", SAFE)})
    sample("sample.py", workdir)
    result = lint_ws("--fix", "sample.py")
    assert f"fixes did not settle after {fixes.MAX_PASSES} passes" in result.stderr


@pytest.mark.parametrize("name", ["sample.py", "sample.rs"])
def test_a_second_fix_run_changes_nothing(marker_rules, workdir, name):
    path = sample(name, workdir)
    assert lint_ws("--unsafe-fixes", name).exit_code == 0
    once = _freeze(path)
    second = lint_ws("--unsafe-fixes", name)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == once
    assert second.exit_code == 0 and "0 findings" in second.stderr


def test_suppressed_findings_are_not_fixed(marker_rules, workdir, monkeypatch):
    path = sample("sample.py", workdir)
    original = engine.lint_file

    def suppressing(*args, **kwargs):
        result = original(*args, **kwargs)
        result.findings = [
            Finding(f.rule_id, f.path, f.span, f.message, f.related, f.fix, suppressed=True) for f in result.findings
        ]
        return result

    monkeypatch.setattr(engine, "lint_file", suppressing)
    before = path.read_bytes()
    assert lint_ws("--unsafe-fixes", "sample.py").exit_code == 0
    assert path.read_bytes() == before


# --- every rule fixture with a fix round-trips to its snapshot --------------------------

UPDATE = os.environ.get("LINT_WS_UPDATE_SNAPSHOTS") == "1"


def snapshot_of(path: Path) -> Path:
    # ``bad.rs.fixed``: not a .rs/.py file, so never taken for a fixture or linted.
    return path.with_name(path.name + ".fixed")


@pytest.mark.parametrize("path", rule_fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_fixes_match_their_snapshot(path, tmp_path):
    """All of a fixture's fixes (safe and unsafe, as --unsafe-fixes applies them) give its
    ``.fixed`` snapshot, a text that parses and that a second run leaves alone."""
    rule_id = fixture_rule(path)  # a crate's files sit below the rule's directory
    options = engine.RunOptions(frozenset({rule_id}))
    display = path.relative_to(FIXTURES).as_posix()
    outcome = fixes.fix_file(path, display, options, unsafe=True)
    assert outcome is not None
    assert outcome.result.problems == [], "a fix was refused or did not settle"
    snapshot = snapshot_of(path)
    if not outcome.changed:
        assert not snapshot.exists(), f"{snapshot.name} is stale: {path.name} has no fix any more; delete it"
        return
    if UPDATE:
        snapshot.write_bytes(outcome.fixed.raw)
    assert snapshot.exists(), (
        f"{path.name} has fixes but no snapshot; review the output of "
        f"`lint-ws check --diff --unsafe-fixes --select {rule_id} {path}` and create it with "
        f"LINT_WS_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_fixes.py"
    )
    assert outcome.fixed.raw == snapshot.read_bytes(), f"fixing {path.name} no longer gives {snapshot.name}"
    fixes.check_still_parses(outcome.original, decode(display, snapshot.read_bytes(), outcome.original.language))
    fixed_copy = tmp_path / path.name
    fixed_copy.write_bytes(snapshot.read_bytes())
    again = fixes.fix_file(fixed_copy, display, options, unsafe=True)
    assert not again.changed, f"fixing {snapshot.name} again changes it"


def test_every_snapshot_belongs_to_a_fixture():
    fixtures = {snapshot_of(path) for path in rule_fixture_files()}
    orphans = [p for p in FIXTURES.glob("*/WS*/**/*.fixed") if p not in fixtures]
    assert orphans == [], "snapshots without their fixture"


@pytest.mark.parametrize("ending", ["\n", ""])
def test_a_fix_in_the_last_statement_of_a_file_with_or_without_final_newline(ending, tmp_path):
    """A Python fix is rendered on the top-level statement that holds it; the file's last
    statement, without its final newline, renders apart from the file's text."""
    source = (
        "import asyncio\n\n\n"
        "class Hub:\n"
        "    async def push(self, ws, message):\n"
        "        try:\n"
        "            self.outbox.put_nowait(message)\n"
        "        except asyncio.QueueFull:\n"
        "            await ws.close(code=1013)"
    )
    path = tmp_path / "hub.py"
    path.write_text(source + ending, encoding="utf-8")
    outcome = fixes.fix_file(path, "hub.py", engine.RunOptions(frozenset({"WS001"})), unsafe=True)
    assert outcome is not None and outcome.changed and outcome.result.problems == []
    assert outcome.fixed.text == source.replace("await ws.close(code=1013)", "pass") + ending
