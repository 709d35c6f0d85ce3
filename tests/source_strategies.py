"""Hypothesis strategies for sources in the rules' shapes, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

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


def rust_sources(max_pieces: int = 25) -> st.SearchStrategy[bytes]:
    """A Rust function whose body is rule-shaped statements and stray tokens."""
    pieces = st.lists(st.sampled_from(RUST_PIECES), max_size=max_pieces)
    return pieces.map(lambda chosen: ("fn f() {\n" + "\n".join(chosen) + "\n}\n").encode())


def python_sources(max_lines: int = 25) -> st.SearchStrategy[bytes]:
    """Lines of rule-shaped Python in any order and indentation (often a syntax error)."""
    lines = st.lists(st.sampled_from(PYTHON_LINES), max_size=max_lines)
    return lines.map(lambda chosen: ("\n".join(chosen) + "\n").encode())
