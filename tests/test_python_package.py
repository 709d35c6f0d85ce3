"""The Python package index: summaries are plain data, packages are found where they are,
and names resolve through imports and bases, or not at all."""

from __future__ import annotations

import marshal
from pathlib import Path

from fixture_expectations import FIXTURES
from lint_ws.python.project import Project, Symbol, package_modules, package_root
from lint_ws.python.summary import summarize

SESSIONS = FIXTURES / "python" / "WS005" / "pkg_sessions"
HELPERS = FIXTURES / "python" / "WS004" / "pkg_property_helpers"


def test_a_summary_is_plain_data_that_marshal_round_trips():
    path = HELPERS / "client" / "base.py"
    summary = summarize(str(path), path.read_text(encoding="utf-8"))
    assert marshal.loads(marshal.dumps(summary)) == summary
    base = summary["classes"]["BaseClient"]
    assert base["methods"]["connected"]["property"] is True
    assert base["methods"]["connected"]["returns"] == ["state:self._client:1"]
    assert base["methods"]["_get_websocket"]["returns"] == ["self._client"]
    assert "client" in base["attrs"]["_client"]  # websockets.connect(...) in connect()


def test_a_module_naming_no_connection_is_not_a_contributor():
    summary = summarize("plain.py", "def add(a, b):\n    return a + b\n")
    assert summary["contributes"] is False
    assert summarize("broken.py", "def (:\n") == {"contributes": False}


def test_package_roots(tmp_path: Path):
    (tmp_path / "repo" / "src" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for directory in ("src/pkg", "src/pkg/sub"):
        (tmp_path / "repo" / directory / "__init__.py").write_text("")
    module = tmp_path / "repo" / "src" / "pkg" / "sub" / "mod.py"
    module.write_text("")
    assert package_root(module) == tmp_path / "repo"

    # No source root: the top package; its loose neighbours are not part of it.
    (tmp_path / "loose" / "top" / "inner").mkdir(parents=True)
    (tmp_path / "loose" / "top" / "__init__.py").write_text("")
    (tmp_path / "loose" / "top" / "inner" / "__init__.py").write_text("")
    (tmp_path / "loose" / "script.py").write_text("")
    (tmp_path / "loose" / "top" / "inner" / "m.py").write_text("")
    assert package_root(tmp_path / "loose" / "top" / "inner" / "m.py") == tmp_path / "loose" / "top"
    assert package_root(tmp_path / "loose" / "script.py") == tmp_path / "loose"
    assert package_modules(tmp_path / "loose") == [tmp_path / "loose" / "script.py"]


def test_a_workspace_member_belongs_to_the_workspace(tmp_path: Path):
    (tmp_path / "member" / "pkg").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = ['member']\n")
    (tmp_path / "member" / "pyproject.toml").write_text("[project]\nname = 'member'\n")
    (tmp_path / "member" / "pkg" / "m.py").write_text("")
    assert package_root(tmp_path / "member" / "pkg" / "m.py") == tmp_path


def test_names_resolve_through_imports_aliases_and_bases():
    project = Project.of(SESSIONS / "feed" / "plugin.py")
    plugin = "feed/plugin.py"
    # ``stream.Stream`` is a module-level alias of RetryingStream in stream.py.
    assert project.resolve(plugin, "stream.Stream") == Symbol("feed/stream.py", "RetryingStream")
    lineage = project.lineage(Symbol(plugin, "RetriedPlugin"))
    assert lineage == [Symbol(plugin, "RetriedPlugin"), Symbol("feed/stream.py", "RetryingStream")]
    assert project.method(Symbol(plugin, "RetriedPlugin"), "main_task").owner == Symbol("feed/stream.py", "RetryingStream")
    # Unresolved is unknown, not "anything with that name".
    assert project.resolve(plugin, "stream.NoSuchClass") is None
    assert project.resolve(plugin, "asyncio.sleep") is None


def test_callers_across_modules_and_unknown_receivers():
    project = Project.of(HELPERS / "client" / "session.py")
    session = Symbol("client/session.py", "Session")
    [keepalive] = project.callers(session, "send_ping", "client/session.py")
    assert (keepalive.module, keepalive.owner, keepalive.function) == ("client/base.py", "BaseClient", "keepalive")
    assert "ConnectionClosed" in keepalive.call[2]
    # ``self._client.send(...)`` elsewhere: a ``send`` on an object the package cannot name.
    assert project.callers(session, "send", "client/session.py") is None
