"""The results cache: same results warm as cold, invalidated by content and options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_runner import run_cli

from lint_ws import cache, engine
from lint_ws.catalogue import all_rules

# A Python file every Python rule's triggers match, so each rule runs (and is cached).
SOURCE = b'''import asyncio


async def pump(ws, queue):
    try:
        queue.put_nowait("frame")
    except asyncio.QueueFull:
        await ws.close()
    if not ws.closed:
        await ws.send("x")
'''


def _options(**overrides) -> engine.RunOptions:
    return engine.RunOptions(selected=frozenset(all_rules()), **overrides)


def _run(tmp_path: Path, options: engine.RunOptions, use_cache: bool = True) -> engine.RunResult:
    files = [(path, path.name) for path in sorted(tmp_path.glob("*.py"))]
    results_cache = cache.ResultCache(tmp_path / "cache", options) if use_cache else None
    return engine.run(files, options, jobs=1, cache=results_cache)


def _entries(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "cache").rglob("*") if path.is_file() and path.name != "last-pruned"]


def test_warm_run_gives_identical_results(tmp_path):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    uncached = _run(tmp_path, _options(), use_cache=False)
    cold = _run(tmp_path, _options())
    assert _entries(tmp_path), "the cold run stored nothing"
    warm = _run(tmp_path, _options())
    assert len(uncached.findings) == 2 and uncached.findings[0].fix is not None
    assert cold.findings == uncached.findings
    assert warm.findings == cold.findings
    assert warm.problems == cold.problems


def test_warm_run_reads_the_cache_instead_of_parsing(tmp_path, monkeypatch):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    cold = _run(tmp_path, _options())

    def no_parse(source, checks, prefilter):
        raise AssertionError("a warm run parsed an unchanged file")

    from lint_ws.python import frontend

    monkeypatch.setattr(frontend, "analyse", no_parse)
    assert _run(tmp_path, _options()).findings == cold.findings


def test_changed_file_is_linted_again(tmp_path):
    target = tmp_path / "pump.py"
    target.write_bytes(SOURCE)
    cold = _run(tmp_path, _options())
    target.write_bytes(b"# a comment line moves every finding down\n" + SOURCE)
    changed = _run(tmp_path, _options())
    assert [f.span.start_line + 1 for f in cold.findings] == [f.span.start_line for f in changed.findings]
    assert changed.findings == _run(tmp_path, _options(), use_cache=False).findings


def test_corrupt_or_truncated_entry_is_a_miss(tmp_path):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    expected = _run(tmp_path, _options(), use_cache=False).findings
    _run(tmp_path, _options())
    for damage in (b"", b"\x80\x05not a pickle", None):
        for entry in _entries(tmp_path):
            entry.write_bytes(entry.read_bytes()[:7] if damage is None else damage)
        assert _run(tmp_path, _options()).findings == expected


def test_entry_naming_other_code_is_refused(tmp_path):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    expected = _run(tmp_path, _options(), use_cache=False).findings
    _run(tmp_path, _options())
    import pickle

    for entry in _entries(tmp_path):
        entry.write_bytes(pickle.dumps(os.system))  # would run code if unpickled freely
    assert _run(tmp_path, _options()).findings == expected


def test_different_options_give_different_keys(tmp_path):
    directory = tmp_path / "cache"
    content, rules = SOURCE, ["WS004"]
    keys = {
        cache.ResultCache(directory, options).key("pump.py", content, rules)
        for options in (
            _options(),
            _options(prefilter=False),
            engine.RunOptions(selected=frozenset({"WS004"})),
            _options(report_unused_allows=True),
        )
    }
    assert len(keys) == 4
    same = cache.ResultCache(directory, _options())
    assert same.key("pump.py", content, rules) != same.key("other.py", content, rules)
    assert same.key("pump.py", content, rules) != same.key("pump.py", content + b"\n", rules)
    assert same.key("pump.py", content, rules) != same.key("pump.py", content, ["WS005"])


def test_key_is_the_same_in_every_process():
    # Rule-id sets iterate in an order that changes with the string hash seed.
    script = (
        "from lint_ws import cache, engine;"
        "o = engine.RunOptions(selected=frozenset({'WS001','WS002','WS003','WS004','WS005'}));"
        "print(cache.ResultCache('/nonexistent', o).key('a.py', b'x', ['WS001', 'WS002']))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(keys) == 1


def test_no_cache_writes_nothing_and_default_run_writes(tmp_path):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    cache_dir = tmp_path / "cache"
    environment = {"LINT_WS_CACHE_DIR": str(cache_dir)}
    bypassed = run_cli("check", "--no-cache", "--jobs", "1", "pump.py", cwd=tmp_path, env=environment)
    assert not cache_dir.exists()
    cold = run_cli("check", "--jobs", "1", "pump.py", cwd=tmp_path, env=environment)
    assert _entries(tmp_path)
    warm = run_cli("check", "--jobs", "1", "pump.py", cwd=tmp_path, env=environment)
    assert bypassed.stdout == cold.stdout == warm.stdout
    assert bypassed.returncode == cold.returncode == warm.returncode


def test_unwritable_cache_directory_does_not_fail_the_run(tmp_path):
    (tmp_path / "pump.py").write_bytes(SOURCE)
    (tmp_path / "cache").write_text("a file where the cache directory should be")
    results_cache = cache.ResultCache(tmp_path / "cache", _options())
    files = [(tmp_path / "pump.py", "pump.py")]
    result = engine.run(files, _options(), jobs=1, cache=results_cache)
    assert result.findings == _run(tmp_path, _options(), use_cache=False).findings
    assert not result.problems


# --- the file index: unchanged files known by their stat ----------------------------------


def _index_files(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "cache").rglob("*") if path.is_file() and path.parent.name == "index"]


def _count_lints(monkeypatch) -> list[str]:
    linted: list[str] = []
    original = engine.lint_file
    monkeypatch.setattr(engine, "lint_file", lambda path, display, *args, **kwargs: linted.append(display) or original(path, display, *args, **kwargs))
    return linted


def test_unchanged_files_are_known_by_their_stat_without_being_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_RACY_NS", -1)  # the files were written just now
    (tmp_path / "pump.py").write_bytes(SOURCE)
    (tmp_path / "clean.py").write_bytes(b"x = 1\n")
    cold = _run(tmp_path, _options())
    assert _index_files(tmp_path), "the cold run recorded no file"
    linted = _count_lints(monkeypatch)
    warm = _run(tmp_path, _options())
    assert linted == []
    assert warm.files == cold.files


def test_a_file_rewritten_under_its_old_timestamps_is_linted_again(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_RACY_NS", -1)
    target = tmp_path / "pump.py"
    target.write_bytes(SOURCE)
    before = target.stat()
    cold = _run(tmp_path, _options())
    # Same size, same modification time: the change time and inode still tell.
    target.write_bytes(SOURCE.replace(b"ws.closed", b"ws.CLOSED"))  # no more WS004
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    linted = _count_lints(monkeypatch)
    changed = _run(tmp_path, _options())
    assert linted == ["pump.py"]
    assert changed.findings != cold.findings
    assert changed.findings == _run(tmp_path, _options(), use_cache=False).findings


def test_a_file_modified_just_before_the_run_is_not_trusted_by_its_stat(tmp_path, monkeypatch):
    # "Just before" is within the racy margin of the run's end; a margin of an hour makes the
    # file written here racily clean however long the run takes on a loaded machine.
    monkeypatch.setattr(cache, "_RACY_NS", 3600 * 10**9)
    (tmp_path / "pump.py").write_bytes(SOURCE)  # racily clean: it may change again within its timestamp tick
    cold = _run(tmp_path, _options())
    linted = _count_lints(monkeypatch)
    assert _run(tmp_path, _options()).findings == cold.findings
    assert linted == ["pump.py"]


def test_a_corrupt_or_foreign_index_is_an_empty_one(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_RACY_NS", -1)
    (tmp_path / "pump.py").write_bytes(SOURCE)
    expected = _run(tmp_path, _options(), use_cache=False).files
    _run(tmp_path, _options())
    import marshal
    import pickle

    (index,) = _index_files(tmp_path)
    scope, entries = marshal.loads(index.read_bytes())
    [(key, (stamp, result, project))] = entries.items()
    assert pickle.loads(result).findings, "the file's findings are in the index"
    for damage in (
        b"",
        index.read_bytes()[:20],
        pickle.dumps({"x": 1}),
        marshal.dumps(("another scope", entries)),
        marshal.dumps((scope, {key: (stamp, result[:30], project)})),  # a truncated result
        marshal.dumps((scope, {key: (stamp, pickle.dumps(os.system), project)})),  # a planted one
        marshal.dumps((scope, {key: (stamp, pickle.dumps([]), project)})),  # not a result
    ):
        index.write_bytes(damage)
        assert _run(tmp_path, _options()).files == expected


def _imported(script: str, cwd: Path, env: dict[str, str]) -> set[str]:
    """The modules a Python process running ``script`` imports, from CPython's import-time log."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", script], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_a_warm_run_over_an_unchanged_crate_imports_no_front_end_and_no_pathlib(tmp_path):
    """A warm run is a start-up and a stat per file; importing pathlib alone would cost it a
    twentieth of its time (README "Speed"). The crate's index and the results are all read
    from the cache: no rule module, no parser."""
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "crate"\nversion = "0.1.0"\n')
    (crate / "src" / "lib.rs").write_text("use tokio_tungstenite::WebSocketStream;\npub mod pump;\n")
    (crate / "src" / "pump.rs").write_text("pub async fn pump(tx: tokio::sync::mpsc::Sender<u8>) { let _ = tx.try_send(1); }\n")
    (tmp_path / "pump.py").write_bytes(SOURCE)
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINT_WS")}
    env["LINT_WS_CACHE_DIR"] = str(tmp_path / "cache")
    run = "from lint_ws.cli import cli; cli.main(['check', '--exit-zero', '.'], prog_name='lint-ws', standalone_mode=False)"
    # The files were written just now: trusted by their stat only without the racy margin.
    _imported(f"from lint_ws import cache; cache._RACY_NS = -1; {run}", tmp_path, env)
    warm = _imported(run, tmp_path, env) - _imported("pass", tmp_path, env)
    assert "lint_ws.project_index" in warm and "lint_ws.cache" in warm
    assert not {"lint_ws.registry", "lint_ws.rust.frontend", "lint_ws.python.frontend"} & warm, "a file was linted again"
    assert "pathlib" not in warm
