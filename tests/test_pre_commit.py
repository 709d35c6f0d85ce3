"""The pre-commit hook, run by the real pre-commit, and what makes it fast on a few files.

The end-to-end tests install the hook the way users get it: pre-commit clones a git
repository holding this project and pip-installs it into a fresh virtualenv (that needs the
package index, and takes tens of seconds the first time). The repository is a snapshot of
the working tree (tracked and untracked, not ignored, files), so the tests exercise the
code as it is now, committed or not; its commit id only depends on the content, so
pre-commit's store (kept in the pytest cache) reuses the environment while nothing changes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest

from lint_ws import discovery

REPO = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT = 900  # a cold pip install of the hook environment on a slow CI machine

# The SPEC's canonical WS004 (check-then-send) examples, the bad files to commit.
BAD_RUST = """\
impl Client {
    pub async fn send_text(&mut self, payload: String) -> Result<(), Error> {
        if self.is_closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.stream.send(Message::Text(payload)).await?;
        Ok(())
    }

    // what `is_closed` means comes from where it is written
    pub async fn close(&mut self) {
        let _ = self.stream.close(None).await;
        self.is_closed.store(true, Ordering::SeqCst);
    }
}

pub struct Client {
    is_closed: AtomicBool,
    stream: tokio_tungstenite::WebSocketStream<TcpStream>,
}
"""
BAD_PYTHON = """\
async def send_update(ws, data):
    if not ws.closed:
        await ws.send(data)
"""
GOOD_RUST = """\
impl Client {
    pub async fn send_text(&mut self, payload: String) -> Result<(), Error> {
        self.stream.send(Message::Text(payload)).await.map_err(|_| Error::Closed)
    }
}
"""
GOOD_PYTHON = """\
import websockets


async def send_update(ws, data):
    try:
        await ws.send(data)
    except websockets.ConnectionClosed:
        pass
"""
# Excluded by the project's configuration: staged, but must not block the commit.
PYPROJECT = '[tool.lint-ws]\nexclude = ["vendor/"]\n'


def git_env(home: Path) -> dict[str, str]:
    """An environment where only the test decides git's and pre-commit's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT", "LINT_WS")) and key != "SKIP"  # SKIP: hook ids not to run
    }
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="lint-ws tests",
        GIT_AUTHOR_EMAIL="tests@lint-ws.invalid",
        GIT_COMMITTER_NAME="lint-ws tests",
        GIT_COMMITTER_EMAIL="tests@lint-ws.invalid",
        # Fixed dates: the snapshot's commit id then depends on its content only.
        GIT_AUTHOR_DATE="2000-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2000-01-01T00:00:00Z",
        PRE_COMMIT_HOME=str(home),
        PRE_COMMIT_COLOR="never",
        LINT_WS_CACHE_DIR=str(home / "lint-ws-cache"),
    )
    return env


def run(*args: str, cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = run("git", *args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def cache_dir(request, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("lint-ws-pre-commit") if cache is not None else tmp_path_factory.mktemp("pre-commit")


@pytest.fixture(scope="module")
def hook_repo(cache_dir) -> tuple[Path, str]:
    """A git repository holding the working tree of this project, and its commit id."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (REPO / ".git").exists():
        pytest.skip("the project is not a git checkout: nothing for pre-commit to clone")
    # The user's own git settings (e.g. safe.directory on a CI runner) apply to their checkout.
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO, env=dict(os.environ))
    assert listed.returncode == 0, listed.stderr
    env = git_env(cache_dir / "home")
    snapshot = cache_dir / "hook-repo"
    shutil.rmtree(snapshot, ignore_errors=True)
    snapshot.mkdir()
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git("init", "--quiet", cwd=snapshot, env=env)
    git("add", "--all", cwd=snapshot, env=env)
    git("commit", "--quiet", "--no-verify", "--message", "snapshot", cwd=snapshot, env=env)
    rev = git("rev-parse", "HEAD", cwd=snapshot, env=env).strip()
    # Keep only the hook environment of this snapshot: each one weighs ~40 MB.
    marker = cache_dir / "home" / "lint-ws-snapshot"
    if not marker.is_file() or marker.read_text() != rev:
        shutil.rmtree(cache_dir / "home", ignore_errors=True)
        marker.parent.mkdir()
        marker.write_text(rev)
    return snapshot, rev


@pytest.fixture
def project(tmp_path, cache_dir) -> tuple[Path, dict[str, str]]:
    """A new git repository with the bad, good and excluded files staged."""
    root = tmp_path / "project"
    env = git_env(cache_dir / "home")
    files = {
        "src/bad.rs": BAD_RUST,
        "src/bad.py": BAD_PYTHON,
        "src/good.rs": GOOD_RUST,
        "src/good.py": GOOD_PYTHON,
        "vendor/bad.rs": BAD_RUST,
        "pyproject.toml": PYPROJECT,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    git("init", "--quiet", cwd=root, env=env)
    git("add", "--all", cwd=root, env=env)
    return root, env


FINDING = re.compile(r"^(?P<path>\S+):\d+:\d+: (?P<rule>WS\d{3}) ", re.MULTILINE)


def flagged(output: str) -> set[tuple[str, str]]:
    return {(match["path"], match["rule"]) for match in FINDING.finditer(output)}


def test_try_repo_blocks_the_bad_staged_files_and_passes_the_good_ones(hook_repo, project):
    snapshot, _ = hook_repo
    root, env = project
    # Without --files, try-repo runs the hook on the staged files, like a commit.
    result = run(sys.executable, "-m", "pre_commit", "try-repo", str(snapshot), "lint-ws", cwd=root, env=env, timeout=INSTALL_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"^lint-ws\.+Failed$", output, re.MULTILINE), output
    assert flagged(output) == {("src/bad.py", "WS004"), ("src/bad.rs", "WS004")}, output
    assert "2 findings in 4 files." in output  # vendor/bad.rs is excluded by pyproject.toml


def test_commit_is_blocked_until_the_findings_are_suppressed(hook_repo, project):
    snapshot, rev = hook_repo
    root, env = project
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {snapshot.as_posix()}\n  rev: {rev}\n  hooks:\n  - id: lint-ws\n", encoding="utf-8"
    )
    git("add", ".pre-commit-config.yaml", cwd=root, env=env)
    installed = run(sys.executable, "-m", "pre_commit", "install", cwd=root, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    blocked = run("git", "commit", "--message", "bad", cwd=root, env=env, timeout=INSTALL_TIMEOUT)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert flagged(output) == {("src/bad.py", "WS004"), ("src/bad.rs", "WS004")}, output
    assert run("git", "rev-parse", "--verify", "HEAD", cwd=root, env=env).returncode != 0  # nothing committed

    # Adopting lint-ws on existing code: suppress the known findings where they are.
    for name, comment in (("src/bad.rs", "// lint-ws: allow(WS004)"), ("src/bad.py", "# lint-ws: allow[WS004]")):
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        index = next(i for i, line in enumerate(lines) if ".send(" in line)
        lines[index] += f"  {comment}"
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    git("add", "src", cwd=root, env=env)
    passed = run("git", "commit", "--message", "suppressed", cwd=root, env=env, timeout=INSTALL_TIMEOUT)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert re.search(r"^lint-ws\.+Passed$", output, re.MULTILINE), output


def test_hook_manifest():
    [hook] = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "lint-ws"
    assert hook["entry"] == "lint-ws check"
    assert hook["language"] == "python"
    assert set(hook["types_or"]) == {"rust", "python", "pyi"}
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True


def imported_modules(*args: str, cwd: Path) -> set[str]:
    """The modules ``lint-ws ARGS`` imports, from CPython's own import-time log."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINT_WS")}
    env["LINT_WS_CACHE_DIR"] = str(cwd / "empty-cache")  # a cache hit would skip the parse
    result = run(sys.executable, "-X", "importtime", "-m", "lint_ws", *args, cwd=cwd, env=env)
    assert result.returncode in (0, 1), result.stderr
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_a_rust_file_set_does_not_import_the_python_parser(tmp_path):
    (tmp_path / "conn.rs").write_text(BAD_RUST, encoding="utf-8")
    modules = imported_modules("check", "conn.rs", cwd=tmp_path)
    assert "tree_sitter" in modules  # the run did parse
    assert not any(name == "libcst" or name.startswith("libcst.") for name in modules)
    # click runs the command line; its completion machinery only completes.
    assert "click" in modules and "click.shell_completion" not in modules


def test_a_python_file_set_does_not_import_the_rust_parser(tmp_path):
    (tmp_path / "conn.py").write_text(BAD_PYTHON, encoding="utf-8")
    modules = imported_modules("check", "conn.py", cwd=tmp_path)
    assert "libcst" in modules
    assert not any(name.startswith("tree_sitter") for name in modules)


def test_files_no_rule_can_fire_in_import_no_parser(tmp_path):
    """The usual pre-commit run: an ``__init__.py`` and modules without connection code."""
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "util.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    (tmp_path / "util.rs").write_text("pub fn double(x: u32) -> u32 { 2 * x }\n", encoding="utf-8")
    script = (
        "import sys; from lint_ws.cli import cli\n"
        "code = cli.main(prog_name='lint-ws', standalone_mode=False)\n"
        "print(code, sorted(sys.modules), file=sys.stderr)"
    )
    result = run(sys.executable, "-c", script, "check", "--no-cache", "__init__.py", "util.py", "util.rs", cwd=tmp_path, env=dict(os.environ))
    assert "0 findings in 3 files." in result.stderr
    code, modules = result.stderr.splitlines()[-1].split(" ", 1)
    assert code == "0"
    assert "'lint_ws.python.prefilter'" in modules and "'lint_ws.rust.prefilter'" in modules
    assert not any(f"'{parser}" in modules for parser in ("libcst", "tree_sitter"))


def test_named_files_are_not_walked(tmp_path, monkeypatch):
    (tmp_path / "conn.rs").write_text(GOOD_RUST, encoding="utf-8")
    (tmp_path / "conn.py").write_text(GOOD_PYTHON, encoding="utf-8")

    def no_walk(*args):
        raise AssertionError("named files must not cause a directory walk")

    monkeypatch.setattr(discovery.os, "scandir", no_walk)
    monkeypatch.chdir(tmp_path)
    found = discovery.discover(["conn.rs", "conn.py"])
    assert [os.path.basename(path) for path in found.files] == ["conn.py", "conn.rs"]
