"""The ``lint-ws`` command line."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from lint_ws import __version__, reporters
from lint_ws.catalogue import all_rules, rule_ids
from lint_ws.findings import AllowCommentProblem, FixProblem, Problem

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _rule_ids(value: str | None, option: str) -> frozenset[str] | None:
    if value is None:
        return None
    ids = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    unknown = sorted(ids - rule_ids())
    if unknown:
        raise click.BadParameter(
            f"unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(rule_ids()))})", param_hint=option
        )
    return ids


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lint-ws")
def cli() -> None:
    """Find connection-lifecycle anti-patterns in Rust and Python code."""


@cli.command()
# Not readable=True: an unreadable named file is that file's problem, reported while the
# others are linted (SPEC section 6), not a usage error that stops the run.
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--format", "format_name", type=click.Choice(sorted(reporters.FORMATS)), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--select", help="Comma-separated rule ids to run (default: all).")
@click.option("--ignore", help="Comma-separated rule ids not to run.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--jobs", type=click.IntRange(min=1), help="Processes to use (default: number of cores).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--show-source/--no-show-source", default=None, help="Show source frames (default: on a terminal).")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="Apply unsafe fixes too (implies --fix).")
@click.option("--diff", is_flag=True, help="Print the diff of the fixes instead of applying them; write nothing.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="pyproject.toml ([tool.lint-ws]) or lint-ws.toml to use (default: the nearest one).",
)
@click.option(
    "--report-unused-allows/--no-report-unused-allows",
    default=None,
    help="Report allow comments that suppress nothing, and exit 1 for them.",
)
def check(paths, format_name, output, select, ignore, exit_zero, jobs, statistics, show_source, fix, unsafe_fixes, diff, config_file, report_unused_allows, no_cache) -> None:
    """Lint PATHS (default: the current directory)."""
    from lint_ws import config, discovery, engine

    try:
        configuration = config.resolve(config_file, paths or (".",))
    except config.ConfigError as error:
        click.echo(f"lint-ws: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    selected = configuration.selected_rules(_rule_ids(select, "--select") or None, _rule_ids(ignore, "--ignore"))
    if report_unused_allows is None:
        report_unused_allows = configuration.report_unused_allows
    if diff and format_name != "text":
        raise click.BadParameter("--diff prints a diff; it takes no --format", param_hint="--format")
    cwd = Path.cwd()
    found = discovery.discover(paths or (".",), excluded=configuration.is_excluded)
    for missing in found.missing:
        click.echo(f"lint-ws: {missing}: no such file or directory", err=True)
    files = [(path, discovery.display_path(path, str(cwd))) for path in found.files]
    options = engine.RunOptions(
        selected=selected,
        per_file_ignores=configuration.per_file_ignores,
        report_unused_allows=report_unused_allows,
    )
    results_cache = None
    if not no_cache:
        from lint_ws import cache

        results_cache = cache.for_run(options)
    from lint_ws.progress import Progress

    with Progress(len(files)) as progress:
        result = engine.run(files, options, jobs=jobs, cache=results_cache, progress=progress.advance)
    if results_cache is not None:
        results_cache.prune()
    fixing = fix or unsafe_fixes or diff
    offers_fixes = any(finding.fix for finding in result.findings)
    if fixing or offers_fixes:
        # Imported only when there is something to fix or to offer fixing.
        from lint_ws import fixes
    if fixing:
        fixed = fixes.fix_run(result, files, options, unsafe=unsafe_fixes, write=not diff, cache=results_cache)

    stream = open(output, "w", encoding="utf-8", newline="\n") if output else sys.stdout
    to_terminal = stream.isatty()
    report = reporters.Report(
        findings=result.findings,
        # A named path that does not exist is part of the exit code 2, so SARIF says so too.
        problems=result.problems + [Problem(name, "no such file or directory") for name in found.missing],
        files_checked=len(files),
        show_source=to_terminal if show_source is None else show_source,
        color=to_terminal and "NO_COLOR" not in os.environ,
        root=cwd,
        rules=tuple(sorted(selected)),
    )
    try:
        if diff:
            stream.write("".join(fixes.unified_diff(file_fix) for file_fix in fixed.fixes))
        else:
            reporters.render(format_name, report, stream)
    finally:
        if output:
            stream.close()

    for problem in result.problems:
        click.echo(f"lint-ws: {problem.render()}", err=True)
    active = [f for f in result.findings if not f.suppressed]
    if statistics:
        for rule_id, count in sorted(Counter(f.rule_id for f in active).items()):
            click.echo(f"{count:>5}  {rule_id}  {all_rules()[rule_id].name}", err=True)
    if fixing:
        fix_note = fixes.summary(fixed.remaining, fixed.fixed_count, unsafe_fixes, dry_run=diff)
    elif offers_fixes:
        fix_note = fixes.summary(result.findings, None, unsafe=False)
    else:
        fix_note = ""
    allow_problems = [p for p in result.problems if isinstance(p, AllowCommentProblem)]
    analysis_problems = [p for p in result.problems if not isinstance(p, (AllowCommentProblem, FixProblem))]
    click.echo(_summary(len(active), len(files), analysis_problems, fix_note), err=True)

    if result.failed or found.missing:
        sys.exit(EXIT_ERROR)
    if diff:
        # Like ruff: a diff means there is something to fix.
        sys.exit(EXIT_FINDINGS if fixed.fixes and not exit_zero else EXIT_CLEAN)
    failing_allows = report_unused_allows and allow_problems
    sys.exit(EXIT_FINDINGS if (active or failing_allows) and not exit_zero else EXIT_CLEAN)


def _summary(findings: int, files: int, problems, fix_note: str = "") -> str:
    noun = "finding" if findings == 1 else "findings"
    summary = f"{findings} {noun} in {files} file{'s' if files != 1 else ''}"
    if problems:
        summary += f"; {len(problems)} file{'s' if len(problems) != 1 else ''} not fully analysed"
    if fix_note:
        summary += f"; {fix_note}"
    return summary + "."


@cli.command()
@click.argument("rule_id", required=False)
def rule(rule_id: str | None) -> None:
    """Print the doc of RULE_ID, or list every rule."""
    rules = all_rules()
    if rule_id is None:
        for doc in rules.values():
            click.echo(f"{doc.id}  {doc.name:<24} {doc.level:<8} {doc.summary}")
        return
    doc = rules.get(rule_id.upper())
    if doc is None:
        raise click.BadParameter(f"unknown rule id {rule_id} (known: {', '.join(rules)})", param_hint="RULE_ID")
    click.echo(f"# {doc.id} {doc.name}\n\n{doc.summary}\n\n{doc.doc}", nl=False)


def main() -> None:
    cli()
