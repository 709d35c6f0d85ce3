"""benchmarks/ecosystem/run.py on a tiny repository the test builds: no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNNER = REPO_ROOT / "benchmarks" / "ecosystem" / "run.py"

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# Two of SPEC section 1's own examples: a full queue closes the peer (WS001), and a client
# session loop that nothing restarts (WS005).
CLIENT = """\
import asyncio

import websockets


class Session:
    def __init__(self, ws):
        self.ws = ws
        self.outbox = asyncio.Queue(maxsize=100)

    async def publish(self, message):
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            await self.ws.close(code=1013)


async def main():
    async with websockets.connect("ws://127.0.0.1:9/") as ws:
        session = Session(ws)
        async for message in ws:
            await session.publish(message)


def unrelated():
    return 42
"""


def build_repository(root: Path) -> Path:
    """A git repository holding CLIENT, a data file, and a second commit that changes it."""
    source = root / "origin"
    (source / "client").mkdir(parents=True)
    (source / "client" / "session.py").write_text(CLIENT, encoding="utf-8")
    (source / "data.json").write_text("{}\n", encoding="utf-8")
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pinned"], check=True)
    pinned = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (source / "client" / "session.py").write_text("", encoding="utf-8")
    subprocess.run([*git, "commit", "-q", "-am", "later"], check=True)
    # A bare copy laid out as fetched snapshots are: DIR/OWNER+NAME/repo.
    mirror = root / "mirror" / "acme+client" / "repo"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(mirror)], check=True)
    (root / "repos.toml").write_text(
        f'[[repo]]\nname = "acme/client"\ncommit = "{pinned}"\nkind = "test client"\n', encoding="utf-8"
    )
    return root


def run_check(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--checkouts",
            str(root / "checkouts"),
            "--repos",
            str(root / "repos.toml"),
            "--verdicts",
            str(root / "verdicts"),
            "--from-git-dirs",
            str(root / "mirror"),
            *extra,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LINT_WS_CACHE_DIR": str(root / "cache")},
    )


def row(output: str, rule: str, language: str) -> list[str]:
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == [rule, language]:
            return parts[2:]
    raise AssertionError(f"no {rule} {language} row in:\n{output}")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return build_repository(tmp_path)


def test_new_findings_fail_the_check_and_are_recorded_for_reading(repository: Path):
    first = run_check(repository, "--record-new")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "new findings (no verdict yet): 2" in first.stdout
    # The checkout is the pinned commit (not the later, emptied file), sources only.
    checkout = repository / "checkouts" / "acme" / "client"
    assert (checkout / "client" / "session.py").read_text(encoding="utf-8") == CLIENT
    assert not (checkout / "data.json").exists()

    recorded = tomllib.loads((repository / "verdicts" / "acme__client.toml").read_text(encoding="utf-8"))["finding"]
    assert sorted(entry["rule"] for entry in recorded) == ["WS001", "WS005"]
    assert {entry["verdict"] for entry in recorded} == {"unjudged"}

    # Unjudged entries still count as new, and are not recorded twice.
    again = run_check(repository, "--record-new")
    assert again.returncode == 1
    assert len(tomllib.loads((repository / "verdicts" / "acme__client.toml").read_text(encoding="utf-8"))["finding"]) == 2


def test_precision_recall_lost_and_missed_sites(repository: Path):
    run_check(repository, "--record-new")
    verdict_file = repository / "verdicts" / "acme__client.toml"
    text = verdict_file.read_text(encoding="utf-8")
    # Judge WS001 true and WS005 false; add a WS005 site lint-ws does not report and a judged
    # finding whose code is gone.
    entries = text.split("[[finding]]")
    judged = ["[[finding]]" + entry for entry in entries[1:]]
    judged = [
        entry.replace('verdict = "unjudged"\nreason = ""', 'verdict = "true"\nreason = "full queue closes the peer"')
        if 'rule = "WS001"' in entry
        else entry.replace('verdict = "unjudged"\nreason = ""', 'verdict = "false"\nreason = "judged false for the test"')
        for entry in judged
    ]
    judged.append(
        '[[finding]]\nrule = "WS004"\npath = "client/gone.py"\nline = 3\nfingerprint = "00:1"\n'
        'verdict = "true"\nreason = "the file was removed"\n'
    )
    judged.append(
        '[[known]]\nrule = "WS005"\npath = "client/session.py"\nline = 25\nend_line = 26\n'
        'reason = "a site lint-ws misses"\n'
    )
    verdict_file.write_text("\n".join(judged), encoding="utf-8")

    result = run_check(repository)
    assert result.returncode == 0, result.stdout + result.stderr
    # true false arguable new missed precision recall
    assert row(result.stdout, "WS001", "python") == ["1", "0", "0", "0", "0", "1.00", "1.00"]
    assert row(result.stdout, "WS005", "python") == ["0", "1", "0", "0", "1", "0.00", "0.00"]
    assert row(result.stdout, "all", "python") == ["1", "1", "0", "0", "1", "0.50", "0.50"]
    assert "judged findings no longer reported: 1" in result.stdout
    assert "client/gone.py:3 WS004 [true]" in result.stdout
    assert "known true sites missed: 1" in result.stdout
    assert "client/session.py:25 WS005 a site lint-ws misses" in result.stdout
    assert "reported findings judged false or arguable: 1" in result.stdout
    assert "WS005 [false] judged false for the test" in result.stdout


def test_a_verdict_without_a_reason_is_refused(repository: Path):
    run_check(repository, "--record-new")
    verdict_file = repository / "verdicts" / "acme__client.toml"
    verdict_file.write_text(verdict_file.read_text(encoding="utf-8").replace('"unjudged"', '"true"'), encoding="utf-8")
    result = run_check(repository)
    assert result.returncode != 0
    assert "has a verdict without a reason" in result.stderr


def test_the_pinned_repositories_are_enough_and_pinned():
    with (RUNNER.parent / "repos.toml").open("rb") as file:
        repos = tomllib.load(file)["repo"]
    assert len(repos) >= 30
    assert all(len(repo["commit"]) == 40 for repo in repos)
    assert len({repo["name"] for repo in repos}) == len(repos)
