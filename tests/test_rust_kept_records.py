"""The Rust function records the language server keeps across edits
(``lint_ws.rust.summary.keep_records``) give the findings a fresh summary gives."""

from __future__ import annotations

from pathlib import Path

from lint_ws.rust import summary

ROOT = Path(__file__).resolve().parent.parent
# Edits in the shapes a user makes: a comment, a blank line, a statement, a field of a
# struct (the records' key holds the file's type declarations), a closing brace moved.
EDITS = [
    "// an edit\n",
    "\n",
    "        let _ = 1;\n",
    "    pub extra: tokio::net::UdpSocket,\n",
    "    }\n",
    "type Extra = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;\n",
]


def test_findings_after_a_run_of_edits_equal_a_fresh_summary(tmp_path):
    """A run of edits one after the other, undone ones included, on the bundled Rust
    examples and every single-file Rust fixture: with records kept, each version's findings
    equal those of a lint that summarises the file afresh."""
    from lint_ws import engine
    from lint_ws.catalogue import rule_ids

    (tmp_path / ".git").mkdir()  # no project above the scratch directory
    path = tmp_path / "edited.rs"
    options = engine.RunOptions(selected=rule_ids())
    examples = "".join(source.read_text(encoding="utf-8") for source in sorted(ROOT.glob("examples/rust/*.rs")))
    fixtures = [source.read_text(encoding="utf-8") for source in sorted(ROOT.glob("tests/fixtures/rust/WS*/*.rs"))]
    compared = 0
    for text in [examples, *fixtures]:
        texts = [text]
        for index in range(3, text.count("\n"), 11):
            lines = texts[-1].splitlines(keepends=True)
            texts.append("".join([*lines[:index], EDITS[index % len(EDITS)], *lines[index:]]))
        texts += texts[-2::-3]  # back through earlier versions
        summary.keep_records(1_000)
        try:
            kept = [engine.lint_file(path, path.name, options, raw=version.encode()) for version in texts]
        finally:
            summary.keep_records(0)
        for version, result in zip(texts, kept):
            fresh = engine.lint_file(path, path.name, options, raw=version.encode())
            assert (result.findings, result.problems) == (fresh.findings, fresh.problems)
            compared += bool(fresh.findings)
    assert compared > 50


def test_records_are_reused_only_while_kept():
    text = "fn unchanged() {}\n\nfn edited() { let x = 1; }\n"
    edited = text.replace("let x = 1;", "let x = 2;")
    summary.keep_records(100)
    try:
        first = summary.summarize("kept.rs", text)["functions"]
        second = summary.summarize("kept.rs", edited)["functions"]
    finally:
        summary.keep_records(0)
    assert second[0] is first[0]  # the untouched function's record, carried over
    assert second[1] is not first[1] and second[1][0] == "edited"
    assert summary.summarize("kept.rs", text)["functions"][0] is not summary.summarize("kept.rs", text)["functions"][0]


def test_a_record_follows_the_types_of_the_file():
    """A function's record can depend on a struct of its file: a ``try_send`` on a field that
    is a datagram socket fails on no queue. Editing the struct alone changes the record."""
    method = "impl Link {\n    fn push(&self, m: Vec<u8>) -> std::io::Result<()> {\n        self.out.try_send(&m)?;\n        Ok(())\n    }\n}\n"
    datagram = "struct Link {\n    out: tokio::net::UdpSocket,\n}\n\n" + method
    queue = "struct Link {\n    out: tokio::sync::mpsc::Sender<Vec<u8>>,\n}\n\n" + method
    summary.keep_records(100)
    try:
        errors = [summary.summarize("kept.rs", text)["functions"][0][-1]["errors"] for text in (datagram, queue)]
    finally:
        summary.keep_records(0)
    called = [[record[1] for record in passed_up] for passed_up in errors]
    assert "try_send" not in called[0] and "try_send" in called[1]
