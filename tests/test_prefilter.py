"""The prefilter: its words must cover everything a rule matches, or findings are lost; and
what it rejects never reaches libcst (that is where the time goes). ``test_rule_fixtures``
checks that every fixture and example gives the same findings with and without it."""

import pytest

from lint_ws import engine
from lint_ws.python import frontend
from lint_ws.python import names, prefilter


def test_ws004_requires_a_word_of_every_send_method():
    for method in names.SEND_METHODS:
        assert any(word in method for word in prefilter.PREFILTERS["WS004"].requires), method


ALL_RULES = frozenset({"WS001", "WS002", "WS003", "WS004", "WS005"})


@pytest.mark.parametrize(
    "source",
    [
        # No trace of a connection: a socket's state and its send, a cancelled timer.
        "def f(sock, timer):\n    if not sock.closed:\n        sock.send(b'x')\n    timer.cancel()\n",
        # A websocket, but the state checked is another object's.
        "import websockets\n\nasync def f(ws, job):\n    if job.state == 'done':\n        await ws.send('x')\n",
        # A websocket, and the word cancel only in a comment.
        "import websockets\n\nasync def f(ws):\n    # we never cancel here\n    await ws.send('x')\n",
        # A connect call of no websocket library (``SocketIO`` is no ``socketio`` import).
        "import socket\n\nclass SocketIO:\n    pass\n\ndef f():\n    s = socket.create_connection(('h', 1))\n"
        "    while True:\n        if not s.recv(1):\n            break\n",
        # Awaits, and a connection-only method name, but never awaited on anything.
        "async def f(task, sock):\n    conn, _ = sock.accept()\n    await task\n    task.cancel()\n",
    ],
)
def test_files_no_rule_can_fire_in_are_never_parsed_by_libcst(tmp_path, monkeypatch, source):
    def no_libcst(source):
        raise AssertionError("libcst parsed a file the prefilter should have rejected")

    monkeypatch.setattr(frontend, "_parse_accepted", no_libcst)
    path = tmp_path / "module.py"
    path.write_text(source)
    result = engine.lint_file(path, "module.py", engine.RunOptions(ALL_RULES))
    assert result.problems == [] and result.findings == []


def test_a_check_and_a_send_on_one_websocket_reach_libcst(tmp_path, monkeypatch):
    parsed = []
    original = frontend._parse_accepted
    monkeypatch.setattr(frontend, "_parse_accepted", lambda source: parsed.append(source.path) or original(source))
    path = tmp_path / "module.py"
    path.write_text("import websockets\n\nasync def f(ws):\n    if not ws.closed:\n        await ws.send('x')\n")
    result = engine.lint_file(path, "module.py", engine.RunOptions(ALL_RULES))
    assert parsed == ["module.py"]
    assert [finding.rule_id for finding in result.findings] == ["WS004"]
