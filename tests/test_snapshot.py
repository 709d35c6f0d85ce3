"""One look at the file system per run: each directory listed once, each file stamped once."""

from __future__ import annotations

import os
from collections import Counter

from lint_ws import cache, snapshot
from lint_ws.cli import cli


def _crate(root):
    (root / "src" / "net").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "crate"\nversion = "0.1.0"\n')
    (root / "src" / "lib.rs").write_text("use tokio_tungstenite::WebSocketStream;\npub mod net;\n")
    (root / "src" / "net" / "mod.rs").write_text("pub fn pump(tx: tokio::sync::mpsc::Sender<u8>) { let _ = tx.try_send(1); }\n")
    (root / "src" / "net" / "util.rs").write_text("pub fn double(x: u32) -> u32 { 2 * x }\n")


def test_a_warm_run_lists_each_directory_once_and_stamps_each_file_once(tmp_path, monkeypatch):
    crate = tmp_path / "crate"
    _crate(crate)
    monkeypatch.setenv("LINT_WS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_RACY_NS", -1)  # the files were written just now
    run = ["check", "--exit-zero", "--jobs", "1", str(crate)]
    cli.main(run, prog_name="lint-ws", standalone_mode=False)  # cold: fills the indexes
    directories = [str(crate), str(crate / "src"), str(crate / "src" / "net")]
    sources = [str(path) for path in crate.rglob("*.rs")]

    listed: Counter[str] = Counter()
    stamped: Counter[str] = Counter()
    scandir, stat = os.scandir, os.stat

    def counted_scandir(path="."):
        listed[os.fspath(path)] += 1
        return scandir(path)

    def counted_stat(path, *args, **kwargs):
        stamped[os.fspath(path)] += 1
        return stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", counted_scandir)
    monkeypatch.setattr(os, "stat", counted_stat)
    cli.main(run, prog_name="lint-ws", standalone_mode=False)
    assert [listed[directory] for directory in directories] == [1, 1, 1]
    assert [stamped[source] for source in sources] == [1] * len(sources)


def test_outside_a_run_every_question_goes_to_the_file_system(tmp_path):
    (tmp_path / "a.rs").write_text("fn a() {}\n")
    first = snapshot.listing(str(tmp_path))
    (tmp_path / "b.rs").write_text("fn b() {}\n")
    assert len(snapshot.listing(str(tmp_path))) == len(first) + 1
    with snapshot.taken():
        kept = snapshot.listing(str(tmp_path))
        before = snapshot.stamp(str(tmp_path / "a.rs"))
        (tmp_path / "c.rs").write_text("fn c() {}\n")
        (tmp_path / "a.rs").write_text("fn a() { let _ = 1; }\n")
        assert snapshot.listing(str(tmp_path)) is kept
        assert snapshot.stamp(str(tmp_path / "a.rs")) == before
    assert len(snapshot.listing(str(tmp_path))) == len(kept) + 1
    assert snapshot.stamp(str(tmp_path / "a.rs")) != before
