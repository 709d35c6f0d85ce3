"""Property tests: whatever the input, lint-ws never crashes and is deterministic."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixture_expectations import FIXTURES, rule_fixture_files
from lint_ws import engine
from lint_ws.catalogue import all_rules

ALL_RULES = engine.RunOptions(frozenset(all_rules()))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

RUST_PIECES = [
    "match tx.try_send(msg) { Ok(()) => {}, Err(TrySendError::Full(_)) => { self.disconnect(id); } Err(_) => {} }",
    "if let Err(_) = tx.try_send(m) { return; }",
    "tokio::select! { biased; _ = &mut a => { b.abort(); } _ = &mut b => { a.abort(); } }",
    "impl Drop for Ws { fn drop(&mut self) { self.pump.abort(); } }",
    "if self.closed.load(Ordering::SeqCst) { return Err(E::Closed); }",
    "self.sink.send(Message::Text(s)).await?;",
    "loop { match ws.next().await { Some(Ok(m)) => handle(m), Some(Err(e)) => break, None => break } }",
    "let handle = tokio::spawn(async move { pump(ws).await });",
    "while let Some(msg) = rx.recv().await { write.send(msg).await?; }",
    "fn helper(&self) { self.task.abort(); }",
    "{", "}", "(", ")", ";", "=>", "async", "move", "||", "#[test]", "#[cfg(test)] mod tests {",
]
PYTHON_LINES = [
    "import asyncio", "import websockets", "from asyncio import QueueFull",
    "try:", "    q.put_nowait(msg)", "except asyncio.QueueFull:", "    await ws.close()",
    "async def pump(ws):", "    async for msg in ws:", "        handle(msg)", "    return",
    "if not ws.closed:", "    await ws.send(data)", "task.cancel()", "class S:",
    "    def __del__(self):", "        self._pump.cancel()", "while True:", "    break",
    "done, pending = await asyncio.wait({a, b}, return_when=asyncio.FIRST_COMPLETED)",
    "for t in pending:", "    t.cancel()", "pass", "x = (", ")", "    ", "\t",
]


def lint_text(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    first = engine.lint_file(path, name, ALL_RULES)
    second = engine.lint_file(path, name, ALL_RULES)
    assert not any("internal error" in p.message for p in first.problems), first.problems
    assert first == second
    return first


@SETTINGS
@given(st.lists(st.sampled_from(RUST_PIECES), max_size=25))
def test_rust_shapes_never_crash(tmp_path, pieces):
    lint_text(tmp_path, "gen.rs", ("fn f() {\n" + "\n".join(pieces) + "\n}\n").encode())


@SETTINGS
@given(st.lists(st.sampled_from(PYTHON_LINES), max_size=25))
def test_python_shapes_never_crash(tmp_path, lines):
    lint_text(tmp_path, "gen.py", ("\n".join(lines) + "\n").encode())


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
