"""The ecosystem check: lint-ws on pinned real repositories, every finding against a verdict.

    python benchmarks/ecosystem/run.py --checkouts DIR [--clone] [--repo OWNER/NAME ...]

Each repository of ``repos.toml`` is looked for at ``DIR/OWNER/NAME`` and linted there with
the lint-ws of the running interpreter (``sys.executable -m lint_ws``: run this script with
the Python whose lint-ws you are measuring). Every finding is matched to the verdicts in
``verdicts/OWNER__NAME.toml`` by rule, path and SARIF ``partialFingerprints`` (a moved line
keeps its verdict); the known true sites there are matched by rule, path and line. The report
gives per rule and language the true, false, arguable and new (unjudged) findings and the
known sites missed, then precision (arguable counted as false) and recall, and lists every
new finding and every judged finding that is no longer reported. Exit code 1 when a finding
has no verdict: a change that adds findings gets them read.

``--record-new`` appends each new finding to its repository's verdict file with
``verdict = "unjudged"`` for a reader to fill in (unjudged entries still count as new).
``--clone`` clones missing repositories at their pinned commits with git (needs a network);
``--from-git-dirs DIR`` instead takes them from bare git directories ``DIR/OWNER+NAME/repo``
(fetched snapshots), extracting only what lint-ws reads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
VERDICTS = ("true", "false", "arguable")
UNJUDGED = "unjudged"
LANGUAGES = {".rs": "rust", ".py": "python", ".pyi": "python"}
# What lint-ws reads in a checkout: sources, and the files that shape discovery and projects.
EXTRACTED_SUFFIXES = (".rs", ".py", ".pyi")
EXTRACTED_NAMES = ("Cargo.toml", "pyproject.toml", "setup.cfg", "setup.py", ".gitignore", "lint-ws.toml")


def language_of(path: str) -> str:
    return LANGUAGES.get(Path(path).suffix, "other")


class Repo(NamedTuple):
    name: str  # OWNER/NAME
    commit: str
    kind: str

    @property
    def slug(self) -> str:
        return self.name.replace("/", "__")


class Finding(NamedTuple):
    repo: str
    rule: str
    path: str
    line: int
    fingerprint: str
    message: str

    @property
    def language(self) -> str:
        return language_of(self.path)


class Known(NamedTuple):
    repo: str
    rule: str
    path: str
    line: int
    end_line: int
    reason: str

    @property
    def language(self) -> str:
        return language_of(self.path)

    def matches(self, finding: Finding) -> bool:
        return (finding.rule, finding.path) == (self.rule, self.path) and self.line <= finding.line <= self.end_line


def load_repos(path: Path = HERE / "repos.toml") -> list[Repo]:
    with path.open("rb") as file:
        data = tomllib.load(file)
    return [Repo(entry["name"], entry["commit"], entry.get("kind", "")) for entry in data["repo"]]


def load_verdicts(repo: Repo, directory: Path) -> tuple[dict[tuple[str, str, str], dict], list[Known]]:
    path = directory / f"{repo.slug}.toml"
    if not path.exists():
        return {}, []
    with path.open("rb") as file:
        data = tomllib.load(file)
    verdicts = {}
    for entry in data.get("finding", []):
        verdict = entry["verdict"]
        if verdict not in (*VERDICTS, UNJUDGED):
            raise SystemExit(f"{path}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        if verdict != UNJUDGED and not entry.get("reason", "").strip():
            raise SystemExit(f"{path}: {entry['rule']} {entry['path']}:{entry.get('line')} has a verdict without a reason")
        verdicts[(entry["rule"], entry["path"], entry["fingerprint"])] = entry
    known = [
        Known(repo.name, entry["rule"], entry["path"], entry["line"], entry.get("end_line", entry["line"]), entry["reason"])
        for entry in data.get("known", [])
    ]
    return verdicts, known


def lint(repo: Repo, checkout: Path, jobs: int | None) -> list[Finding]:
    """lint-ws's unsuppressed findings in ``checkout``, from its SARIF report."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.sarif"
        command = [sys.executable, "-m", "lint_ws", "check", "--format", "sarif", "-o", str(report), "--exit-zero", "--no-cache"]
        if jobs:
            command += ["--jobs", str(jobs)]
        completed = subprocess.run([*command, "."], cwd=checkout, capture_output=True, text=True)
        if completed.returncode not in (0, 2) or not report.exists():
            raise SystemExit(f"{repo.name}: lint-ws failed ({completed.returncode}):\n{completed.stderr}")
        sarif = json.loads(report.read_text(encoding="utf-8"))
    findings = []
    for result in sarif["runs"][0]["results"]:
        if result.get("suppressions"):
            continue
        location = result["locations"][0]["physicalLocation"]
        findings.append(
            Finding(
                repo.name,
                result["ruleId"],
                location["artifactLocation"]["uri"],
                location["region"]["startLine"],
                next(iter(result["partialFingerprints"].values())),
                result["message"]["text"],
            )
        )
    return findings


class Tally:
    """Counts per (rule, language)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], Counter[str]] = {}

    def add(self, rule: str, language: str, what: str) -> None:
        self.counts.setdefault((rule, language), Counter())[what] += 1

    def table(self) -> list[str]:
        header = f"{'rule':6} {'language':8} {'true':>5} {'false':>5} {'arg.':>5} {'new':>5} {'missed':>6} {'precision':>9} {'recall':>6}"
        lines = [header, "-" * len(header)]
        keys = sorted(self.counts)
        totals: dict[str, Counter[str]] = {}
        for rule, language in keys:
            counts = self.counts[(rule, language)]
            lines.append(self._row(rule, language, counts))
            totals.setdefault(language, Counter()).update(counts)
        for language, counts in sorted(totals.items()):
            lines.append(self._row("all", language, counts))
        return lines

    @staticmethod
    def _row(rule: str, language: str, counts: Counter[str]) -> str:
        judged = counts["true"] + counts["false"] + counts["arguable"]
        precision = f"{counts['true'] / judged:.2f}" if judged else "-"
        sites = counts["true"] + counts["missed"]
        recall = f"{counts['true'] / sites:.2f}" if sites else "-"
        return (
            f"{rule:6} {language:8} {counts['true']:5} {counts['false']:5} {counts['arguable']:5} "
            f"{counts['new']:5} {counts['missed']:6} {precision:>9} {recall:>6}"
        )


def check(repos: list[Repo], checkouts: Path, verdict_dir: Path, jobs: int | None, record_new: bool) -> int:
    tally = Tally()
    new: list[Finding] = []
    lost: list[tuple[Repo, dict]] = []
    missed: list[Known] = []
    wrong: list[tuple[Finding, dict]] = []
    absent = []
    for repo in repos:
        checkout = checkouts / repo.name
        if not checkout.is_dir():
            absent.append(repo.name)
            continue
        verdicts, known = load_verdicts(repo, verdict_dir)
        findings = lint(repo, checkout, jobs)
        reported = set()
        repo_new = []
        for finding in findings:
            entry = verdicts.get((finding.rule, finding.path, finding.fingerprint))
            if entry is None or entry["verdict"] == UNJUDGED:
                tally.add(finding.rule, finding.language, "new")
                repo_new.append(finding)
                if entry is not None:
                    reported.add((finding.rule, finding.path, finding.fingerprint))
                continue
            reported.add((finding.rule, finding.path, finding.fingerprint))
            tally.add(finding.rule, finding.language, entry["verdict"])
            if entry["verdict"] != "true":
                wrong.append((finding, entry))
        for key, entry in verdicts.items():
            if key not in reported:
                lost.append((repo, entry))
        for site in known:
            if not any(site.matches(finding) for finding in findings):
                tally.add(site.rule, site.language, "missed")
                missed.append(site)
            elif not any(
                site.matches(finding) and verdicts.get((finding.rule, finding.path, finding.fingerprint), {}).get("verdict") == "true"
                for finding in findings
            ):
                # Reported, but its finding has no true verdict yet: the site counts once, as found.
                tally.add(site.rule, site.language, "true")
        new.extend(repo_new)
        if record_new and repo_new:
            append_unjudged(verdict_dir / f"{repo.slug}.toml", [f for f in repo_new if (f.rule, f.path, f.fingerprint) not in verdicts])

    print(f"ecosystem check: {len(repos) - len(absent)} of {len(repos)} repositories")
    if absent:
        print(f"not found under {checkouts}: {', '.join(absent)}")
    print()
    print("\n".join(tally.table()))
    print("\nprecision: true / (true + false + arguable); recall: true / (true + known sites missed)")
    if new:
        print(f"\nnew findings (no verdict yet): {len(new)}")
        for finding in new:
            print(f"  {finding.repo} {finding.path}:{finding.line} {finding.rule} {finding.message}")
    if lost:
        print(f"\njudged findings no longer reported: {len(lost)}")
        for repo, entry in lost:
            print(f"  {repo.name} {entry['path']}:{entry.get('line', '?')} {entry['rule']} [{entry['verdict']}] {entry.get('reason', '')}")
    if wrong:
        print(f"\nreported findings judged false or arguable: {len(wrong)}")
        for finding, entry in wrong:
            print(f"  {finding.repo} {finding.path}:{finding.line} {finding.rule} [{entry['verdict']}] {entry.get('reason', '')}")
    if missed:
        print(f"\nknown true sites missed: {len(missed)}")
        for site in missed:
            print(f"  {site.repo} {site.path}:{site.line} {site.rule} {site.reason}")
    return 1 if new else 0


def append_unjudged(path: Path, findings: list[Finding]) -> None:
    """Append verdict stubs for a reader to fill in; TOML basic strings are JSON strings."""
    if not findings:
        return
    blocks = [
        "\n[[finding]]\n"
        f"rule = {json.dumps(f.rule)}\npath = {json.dumps(f.path)}\nline = {f.line}\n"
        f"fingerprint = {json.dumps(f.fingerprint)}\nmessage = {json.dumps(f.message)}\n"
        f'verdict = "{UNJUDGED}"\nreason = ""\n'
        for f in findings
    ]
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(blocks))


def clone(repo: Repo, checkout: Path) -> None:
    checkout.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "fetch", "-q", "--depth", "1", f"https://github.com/{repo.name}", repo.commit], check=True)
    subprocess.run(["git", "-C", str(checkout), "checkout", "-q", "FETCH_HEAD"], check=True)


def extract(repo: Repo, git_dir: Path, checkout: Path) -> None:
    """Write the files lint-ws reads from ``git_dir`` at the pinned commit into ``checkout``.

    Blobs a snapshot left out (large files) are skipped; they are never sources lint-ws reads.
    """
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", repo.commit], check=True, capture_output=True
    ).stdout.decode("utf-8", "surrogateescape")
    wanted = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, blob = meta.split()
        name = path.rsplit("/", 1)[-1]
        if kind == "blob" and mode != "120000" and (name.endswith(EXTRACTED_SUFFIXES) or name in EXTRACTED_NAMES):
            wanted.append((blob, path))
    batch = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input="".join(f"{blob}\n" for blob, _ in wanted).encode(),
        check=True,
        capture_output=True,
    ).stdout
    position = 0
    for _, path in wanted:
        header_end = batch.index(b"\n", position)
        header = batch[position:header_end].split()
        position = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = checkout / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[position : position + size])
        position += size + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkouts", type=Path, required=True, help="directory holding OWNER/NAME checkouts")
    parser.add_argument("--repos", type=Path, default=HERE / "repos.toml", help="pinned repositories (default: %(default)s)")
    parser.add_argument("--verdicts", type=Path, default=HERE / "verdicts", help="verdict files (default: %(default)s)")
    parser.add_argument("--repo", action="append", default=[], help="only this OWNER/NAME (repeatable)")
    parser.add_argument("--clone", action="store_true", help="git clone missing checkouts at their pinned commits")
    parser.add_argument("--from-git-dirs", type=Path, help="extract missing checkouts from DIR/OWNER+NAME/repo")
    parser.add_argument("--record-new", action="store_true", help='append new findings to the verdict files as "unjudged"')
    parser.add_argument("--jobs", type=int, help="lint-ws --jobs")
    args = parser.parse_args(argv)

    repos = load_repos(args.repos)
    if args.repo:
        unknown = set(args.repo) - {repo.name for repo in repos}
        if unknown:
            parser.error(f"not in {args.repos}: {', '.join(sorted(unknown))}")
        repos = [repo for repo in repos if repo.name in args.repo]
    for repo in repos:
        checkout = args.checkouts / repo.name
        if checkout.exists():
            continue
        if args.from_git_dirs:
            git_dir = args.from_git_dirs / repo.name.replace("/", "+") / "repo"
            if git_dir.is_dir():
                extract(repo, git_dir, checkout)
        elif args.clone:
            clone(repo, checkout)
    args.verdicts.mkdir(parents=True, exist_ok=True)
    return check(repos, args.checkouts, args.verdicts, args.jobs, args.record_new)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUTF8", "1")
    sys.exit(main())
