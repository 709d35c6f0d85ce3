"""SPEC section 5: a SIGKILL in the middle of ``--fix`` never leaves a truncated or
half-written file, nor a file a later run would lint as source.

The kills are placed without timing: the process kills itself at a chosen moment of its
Nth file write (cli_hooks.py wraps lint_ws.fixes' writer), or the test kills it from
outside once it has reported a completed write on a pipe.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from cli_hooks import launcher
from cli_runner import cli_environment, run_cli
from fixture_expectations import FIXTURES, rule_fixture_files

COPIES = 6  # of every fixable fixture: a tree of about a hundred files
SOURCE_SUFFIXES = (".rs", ".py", ".pyi")
MODES = (0o644, 0o600, 0o755, 0o664)  # a fix must keep each file's own
FIX = ("check", "--unsafe-fixes", "--no-show-source", "--format", "json", ".")
FIXABLE = [path for path in rule_fixture_files() if path.with_name(path.name + ".fixed").exists()]


def build_tree(root: Path) -> dict[str, bytes]:
    """Copies of the fixable fixtures under ``root``; their content by relative path."""
    originals = {}
    for copy in range(COPIES):
        for index, fixture in enumerate(FIXABLE):
            relative = f"copy{copy:02}/{fixture.relative_to(FIXTURES).as_posix()}"
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(fixture.read_bytes())
            path.chmod(MODES[(copy + index) % len(MODES)])
            originals[relative] = path.read_bytes()
    return originals


def tree_files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under ``root``: content and permission bits."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            files[path.relative_to(root).as_posix()] = (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
    return files


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache_dir) -> dict:
    """The tree before and after an uninterrupted ``--unsafe-fixes`` run (which also warms
    the module's cache: every test tree has the same paths and contents)."""
    root = tmp_path_factory.mktemp("reference")
    originals = build_tree(root)
    modes = {relative: mode for relative, (_, mode) in tree_files(root).items()}
    result = run_cli(*FIX, cwd=root, env={"LINT_WS_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 1, result.stderr
    fixed = {relative: content for relative, (content, _) in tree_files(root).items()}
    assert fixed.keys() == originals.keys()
    changed = sum(fixed[relative] != originals[relative] for relative in originals)
    assert changed >= 60, "too few files change for the kills to land in the middle of a run"
    return {"originals": originals, "fixed": fixed, "modes": modes, "changed": changed}


def assert_nothing_half_written(root: Path, reference: dict) -> int:
    """Each source file is its original or its complete fix, in its own mode; no new file
    is a source file. Returns how many files are fixed."""
    files = tree_files(root)
    originals, fixed = reference["originals"], reference["fixed"]
    fixed_count = 0
    for relative, original in originals.items():
        content, mode = files[relative]
        assert content in (original, fixed[relative]), f"{relative} is neither its original nor its fix"
        assert mode == reference["modes"][relative], f"{relative} lost its mode"
        fixed_count += content != original and content == fixed[relative]
    for relative in files.keys() - originals.keys():
        name = relative.rsplit("/", 1)[-1]
        assert name.startswith(".") and not name.endswith(SOURCE_SUFFIXES), f"left behind: {relative}"
    return fixed_count


def assert_second_run_completes(root: Path, reference: dict, cache_dir: Path) -> None:
    """A second ``--fix`` finishes the job: the tree an uninterrupted run gives, and no
    temporary file left by the kill is linted as source."""
    result = run_cli(*FIX, cwd=root, env={"LINT_WS_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["files_checked"] == len(reference["originals"])
    files = tree_files(root)
    assert {relative: files[relative][0] for relative in reference["fixed"]} == reference["fixed"]
    assert {relative: files[relative][1] for relative in reference["modes"]} == reference["modes"]


LAST = 0  # the run's last write
# Each moment of a write, at the first write, further into the run and at the last one.
KILLS = [("before-write", 1), ("partial-temp", 1), ("before-rename", 23), ("after-rename", 57), ("partial-temp", LAST)]


@pytest.mark.parametrize(("point", "write"), KILLS, ids=[f"{point}-{write or 'last'}" for point, write in KILLS])
def test_a_kill_inside_a_write_leaves_every_file_whole(tmp_path, reference, cache_dir, point, write):
    write = write or reference["changed"]
    build_tree(tmp_path)
    command, env = launcher({"kind": "kill-in-fix-write", "point": point, "write": write})
    killed = run_cli(*FIX, cwd=tmp_path, command=command, env={"LINT_WS_CACHE_DIR": str(cache_dir), **env})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    completed_writes = write if point == "after-rename" else write - 1
    assert assert_nothing_half_written(tmp_path, reference) == completed_writes
    assert_second_run_completes(tmp_path, reference, cache_dir)


def test_an_external_sigkill_during_fix_leaves_every_file_whole(tmp_path, reference, cache_dir):
    """A real kill from outside, sent once the process has reported its first completed
    write: where in its work the signal lands is up to the machine, as with a user's kill."""
    build_tree(tmp_path)
    read_end, write_end = os.pipe()
    command, env = launcher({"kind": "report-writes", "fd": write_end})
    process = subprocess.Popen(
        [*command, *FIX],
        cwd=tmp_path,
        env=cli_environment({"LINT_WS_CACHE_DIR": str(cache_dir), **env}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as writes:
            assert writes.readline() == b"written\n", "lint-ws ended before writing a fix"
            process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "lint-ws finished before the kill arrived"
    fixed = assert_nothing_half_written(tmp_path, reference)
    assert 1 <= fixed < reference["changed"]
    assert_second_run_completes(tmp_path, reference, cache_dir)
