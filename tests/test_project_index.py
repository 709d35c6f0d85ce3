"""The project index: a file's findings follow its crate's facts, cached or not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fixture_expectations import FIXTURES, expected_findings

from lint_ws import cache, engine, project_index

CRATE = FIXTURES / "rust" / "WS005" / "session_crate"
OPTIONS = engine.RunOptions(selected=frozenset({"WS005"}))


def _copy(tmp_path: Path) -> Path:
    crate = tmp_path / "crate"
    shutil.copytree(CRATE, crate)
    return crate


def _lint_named(crate: Path, cache_directory: Path, name: str = "src/session.rs") -> set[tuple[int, str]]:
    """A pre-commit style run: only ``name`` is named, its crate is seen through the index."""
    results_cache = cache.ResultCache(cache_directory, OPTIONS)
    result = engine.run([(crate / name, name)], OPTIONS, jobs=1, cache=results_cache)
    assert result.problems == []
    return {(f.span.start_line, f.rule_id) for f in result.findings}


def _age(path: Path) -> None:
    """Make a file's stamp old enough for the stat indexes to record it."""
    os.utime(path, (1_600_000_000, 1_600_000_000))


def test_a_named_file_sees_the_callers_in_the_other_files_of_its_crate(tmp_path):
    crate = _copy(tmp_path)
    assert _lint_named(crate, tmp_path / "cache") == expected_findings(CRATE / "src" / "session.rs")


def test_a_change_in_another_file_changes_the_cached_findings(tmp_path):
    crate = _copy(tmp_path)
    for path in crate.rglob("*.rs"):
        _age(path)
    cache_directory = tmp_path / "cache"
    before = _lint_named(crate, cache_directory)
    assert before == _lint_named(crate, cache_directory)  # warm: from the caches
    main = crate / "src" / "main.rs"
    # The reconnect loop around `session.run()` goes: `run`'s receive error ends the session.
    main.write_text(main.read_text().replace("    loop {\n        session.run().await;", "    {\n        session.run().await;"))
    _age(main)
    os.utime(main, (1_600_000_100, 1_600_000_100))
    after = _lint_named(crate, cache_directory)
    assert len(after) == len(before) + 1


def test_a_crate_that_names_no_connection_needs_no_summaries(tmp_path):
    crate = tmp_path / "plain"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "plain"\nversion = "0.1.0"\n')
    (crate / "src" / "lib.rs").write_text("pub fn add(a: u32, b: u32) -> u32 { a + b }\n")
    (crate / "src" / "tasks.rs").write_text("pub fn stop(h: tokio::task::JoinHandle<()>) { h.abort(); }\n")
    project = project_index.build("rust", str(crate), tmp_path / "cache")
    assert project.summaries == {}
    assert not (tmp_path / "cache" / "summaries").exists()


def test_a_file_rewritten_while_the_scan_reads_it_is_scanned_again(tmp_path, monkeypatch):
    """The stat index keeps the stamp a file had before the scan read it: a change made in
    between is seen by the next run, not hidden under the new stamp."""
    crate = tmp_path / "plain"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "plain"\nversion = "0.1.0"\n')
    lib = crate / "src" / "lib.rs"
    lib.write_text("pub fn add(a: u32, b: u32) -> u32 { a + b }\n")
    _age(lib)
    monkeypatch.setattr(cache, "_RACY_NS", -1)
    scan = project_index._scan

    def scan_then_edit(task):
        found = scan(task)
        lib.write_text("use tokio_tungstenite::WebSocketStream;\npub fn add(a: u32, b: u32) -> u32 { a + b }\n")
        _age(lib)
        os.utime(lib, (1_600_000_100, 1_600_000_100))
        return found

    monkeypatch.setattr(project_index, "_scan", scan_then_edit)
    assert project_index.build("rust", str(crate), tmp_path / "cache").summaries == {}  # it read the old text
    monkeypatch.setattr(project_index, "_scan", scan)
    assert list(project_index.build("rust", str(crate), tmp_path / "cache").summaries) == ["src/lib.rs"]


def test_worker_processes_scan_and_summarise_as_the_run_itself_does(tmp_path, monkeypatch):
    """A large project is scanned and summarised on worker processes (lowered thresholds
    stand in for its size): the same keys, digest and summaries as in one process, and the
    stat index the workers' scan leaves behind serves the next run."""
    crate = _copy(tmp_path)
    for path in crate.rglob("*.rs"):
        _age(path)
    monkeypatch.setattr(cache, "_RACY_NS", -1)
    alone = project_index.build("rust", str(crate), None, jobs=1)
    monkeypatch.setattr(project_index, "_PARALLEL_SCAN_FILES", 1)
    parallel = project_index.build("rust", str(crate), str(tmp_path / "cache"), jobs=2)
    assert len(parallel.keys) >= 2, "the fixture crate is too small to reach the workers"
    assert (parallel.keys, parallel.digest) == (alone.keys, alone.digest)
    assert parallel.summaries == alone.summaries
    scanned = []  # a scan in this process, where it can be seen
    monkeypatch.setattr(project_index, "_PARALLEL_SCAN_FILES", 10**6)
    monkeypatch.setattr(project_index, "_scan", lambda task: scanned.append(task) or (None, None))
    assert project_index.build("rust", str(crate), str(tmp_path / "cache"), jobs=2).digest == alone.digest
    assert scanned == [], "an unchanged file was read again"


def test_a_workspace_is_one_project(tmp_path):
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["a", "b"]\n')
    for member in ("a", "b"):
        (tmp_path / member / "src").mkdir(parents=True)
        (tmp_path / member / "Cargo.toml").write_text(f'[package]\nname = "{member}"\n')
        (tmp_path / member / "src" / "lib.rs").write_text("use tokio_tungstenite::WebSocketStream;\npub fn f() {}\n")
    project = project_index.project_for("rust", tmp_path / "a" / "src" / "lib.rs")
    assert project.root == str(tmp_path)
    assert sorted(project.summaries) == ["a/src/lib.rs", "b/src/lib.rs"]


CLIENT_RS = """
use std::sync::Arc;
use tokio_tungstenite::WebSocketStream;

pub struct Transport { socket: WebSocketStream<TcpStream> }

impl Transport {
    pub async fn read(&mut self) { while let Some(m) = self.socket.next().await { drop(m); } }
}

pub struct Client { transport: Transport }

impl Client {
    pub fn new() -> Self { let shared = Arc::new(1); Self::build(shared) }
    fn build(shared: Arc<u32>) -> Self { todo!() }
    pub async fn run(&mut self) { self.transport.read().await; }
}

pub fn helper() {}
"""
MAIN_RS = """
mod client;
use client::{helper as assist, Client};

async fn main() {
    let mut c = Client::new();
    loop { c.run().await; }
    assist();
    crate::client::helper();
}
"""


def test_calls_are_resolved_not_matched_by_name():
    from lint_ws.rust.crate import Crate
    from lint_ws.rust.summary import summarize

    crate = Crate({"src/client.rs": summarize("src/client.rs", CLIENT_RS), "src/main.rs": summarize("src/main.rs", MAIN_RS)})
    by_name = {(f.impl, f.name): f for f in crate.functions.values()}

    def reached(caller: tuple, target: str) -> list[tuple]:
        function = by_name[caller]
        calls = [call for call in function.body["calls"] if call[1] == target]
        return sorted((f.impl or "", f.name) for call in calls for f in crate.resolve(function, call))

    assert reached(("Client", "new"), "Arc::new") == []  # not Client::new: unresolved is unknown
    assert reached(("Client", "new"), "Self::build") == [("Client", "build")]
    assert reached(("Client", "run"), "read") == [("Transport", "read")]  # self.field.method() by the field's type
    assert reached((None, "main"), "Client::new") == [("Client", "new")]
    assert reached((None, "main"), "run") == [("Client", "run")]  # through the local's constructor
    assert reached((None, "main"), "assist") == [("", "helper")]  # an imported, renamed function
    assert reached((None, "main"), "crate::client::helper") == [("", "helper")]
    assert crate.is_pump(by_name[("Client", "run")])  # its callee's loop receives from the connection
    assert "Client" in crate.handle_types and "Transport" in crate.handle_types
    assert crate.restarted(by_name[("Client", "run")])  # main runs it again from a loop
    assert not crate.restarted(by_name[("Client", "new")])


PACKAGE = FIXTURES / "python" / "WS005" / "pkg_sessions"


def test_a_change_in_another_module_changes_the_cached_findings(tmp_path):
    """Python: session.py's `Session.run` is rerun by app.py's loop; remove that loop and a
    cached run of session.py alone reports `run` too."""
    package = tmp_path / "package"
    shutil.copytree(PACKAGE, package)
    for path in package.rglob("*.py"):
        _age(path)
    cache_directory = tmp_path / "cache"
    before = _lint_named(package, cache_directory, "feed/session.py")
    assert before == expected_findings(PACKAGE / "feed" / "session.py")
    assert before == _lint_named(package, cache_directory, "feed/session.py")  # warm: from the caches
    app = package / "feed" / "app.py"
    looped = "    while True:\n        try:\n            await session.run()\n        except Exception:\n            await asyncio.sleep(1)\n"
    assert looped in app.read_text()
    app.write_text(app.read_text().replace(looped, "    await session.run()\n"))
    os.utime(app, (1_600_000_100, 1_600_000_100))
    after = _lint_named(package, cache_directory, "feed/session.py")
    assert len(after) == len(before) + 1 and before < after
