"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers, built with sarif-om.

Output is deterministic: the same findings over the same files give byte-identical SARIF
(keys sorted, results in finding order, rules and artifacts sorted), so it diffs cleanly
and can be cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

import attr
import sarif_om as om

from lint_ws import HOMEPAGE, __version__
from lint_ws.catalogue import RuleDoc, all_rules
from lint_ws.findings import Edit, Finding, Problem, Severity, Span
from lint_ws.fixes import newline_of, with_newline
from lint_ws.source import SourceError, SourceFile, decode, language_of

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = HOMEPAGE
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "lintWs/v1"

# SARIF's own defaults would let ``level`` be omitted (it then inherits from the rule), but
# readers of the file, GitHub included, should not need SARIF's inheritance rules to know
# how serious a result is.
ALWAYS_WRITTEN = frozenset({"level"})


def render(report, stream: TextIO) -> None:
    log = build_log(report)
    # ASCII with JSON escapes: the log is for machines, and stdout may not be UTF-8 (Windows).
    stream.write(json.dumps(to_json(log), indent=2, sort_keys=True, ensure_ascii=True))
    stream.write("\n")


def to_json(value):
    """Serialise a sarif-om object tree with SARIF's property names, omitting unset fields."""
    if attr.has(type(value)):
        document = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            name = field.metadata["schema_property_name"]
            if item is None or (item == _default(field) and name not in ALWAYS_WRITTEN):
                continue
            document[name] = to_json(item)
        return document
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def _default(field):
    if isinstance(field.default, attr.Factory):
        return field.default.factory()
    return field.default


def build_log(report) -> om.SarifLog:
    root = Path(report.root)
    rules = _rules(report)
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    artifacts = _Artifacts(root, {f.path for f in report.findings} | {p.path for p in report.problems})
    sources = _Sources(root)
    fingerprints = _fingerprints(report.findings, sources)
    results = [
        _result(finding, rule_index[finding.rule_id], rules, artifacts, sources, fingerprint)
        for finding, fingerprint in zip(report.findings, fingerprints)
    ]
    notifications = [_notification(problem, artifacts) for problem in report.problems]
    invocation = om.Invocation(
        execution_successful=not any(problem.severity is Severity.ERROR for problem in report.problems),
        tool_execution_notifications=notifications or None,
        working_directory=om.ArtifactLocation(uri=_directory_uri(root)),
    )
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="lint-ws",
                version=__version__,
                semantic_version=__version__,
                information_uri=INFORMATION_URI,
                rules=[_descriptor(rule) for rule in rules],
            )
        ),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=_directory_uri(root))},
        artifacts=artifacts.listing() or None,
        column_kind="unicodeCodePoints",
        invocations=[invocation],
        results=results,
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def _rules(report) -> list[RuleDoc]:
    """The rules the run checked, plus any rule a finding names, in id order."""
    catalogue = all_rules()
    ids = set(report.rules) | {finding.rule_id for finding in report.findings}
    return [catalogue[rule_id] for rule_id in sorted(ids)]


def _descriptor(rule: RuleDoc) -> om.ReportingDescriptor:
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=rule.summary),
        full_description=om.MultiformatMessageString(text=_full_description(rule)),
        help=om.MultiformatMessageString(text=rule.doc, markdown=rule.doc),
        help_uri=rule.help_uri,
        default_configuration=om.ReportingConfiguration(level=rule.level),
        properties={"tags": list(rule.tags), "precision": rule.precision},
    )


def _full_description(rule: RuleDoc) -> str:
    """The doc's "What it does" section as one paragraph; the summary when there is none."""
    section = re.search(r"^## What it does\n(.*?)(?=^## |\Z)", rule.doc, re.MULTILINE | re.DOTALL)
    if section is None:
        return rule.summary
    return " ".join(section.group(1).split())


class _Artifacts:
    """The run's artifacts[]: one per file a result or a notification names, sorted."""

    def __init__(self, root: Path, paths: set[str]):
        self.root = root
        self.paths = sorted(paths)
        self.index = {path: index for index, path in enumerate(self.paths)}

    def location(self, path: str) -> om.ArtifactLocation:
        return om.ArtifactLocation(index=self.index[path], **_uri(path, self.root))

    def listing(self) -> list[om.Artifact]:
        return [
            om.Artifact(
                location=om.ArtifactLocation(**_uri(path, self.root)),
                source_language=language_of(path),
                roles=["analysisTarget"],
            )
            for path in self.paths
        ]


def _uri(path: str, root: Path) -> dict:
    """URI of a display path: relative under %SRCROOT% when inside the working directory."""
    if Path(path).is_absolute() or path == ".." or path.startswith("../"):
        return {"uri": Path(os.path.normpath(root / path)).as_uri()}
    return {"uri": quote(path, safe="/"), "uri_base_id": SRCROOT}


def _directory_uri(directory: Path) -> str:
    uri = directory.as_uri()
    return uri if uri.endswith("/") else uri + "/"


class _Sources:
    """The decoded text of the files findings point into, read once each.

    Fingerprints need the offending line's text and fix regions need line/column
    positions of edit offsets; neither is part of a Finding.
    """

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[str, SourceFile | None] = {}

    def get(self, path: str) -> SourceFile | None:
        if path not in self.cache:
            self.cache[path] = self._load(path)
        return self.cache[path]

    def _load(self, path: str) -> SourceFile | None:
        language = language_of(path)
        if language is None:
            return None
        try:
            return decode(path, (self.root / path).read_bytes(), language)
        except (OSError, SourceError):
            return None

    def matching(self, finding: Finding) -> SourceFile | None:
        """The file's text if it is still the text the finding was computed on."""
        source = self.get(finding.path)
        if source is None or not _span_matches(source, finding.span):
            return None
        return source


def _span_matches(source: SourceFile, span: Span) -> bool:
    if span.end_offset > len(source.text):
        return False
    return source.span_from_offsets(span.start_offset, span.end_offset) == span


def _fingerprints(findings: list[Finding], sources: _Sources) -> list[str]:
    """A fingerprint per finding that survives edits elsewhere in the file.

    It hashes the rule, the path and the whitespace-normalised text of the line the finding
    starts on (its line number is deliberately left out: lines added above must not change
    it), plus a counter that tells apart identical lines with the same finding.
    """
    seen: Counter[str] = Counter()
    fingerprints = []
    for finding in findings:
        source = sources.matching(finding)
        content = (
            " ".join(source.line_text(finding.span.start_line).split())
            if source is not None
            else finding.message
        )
        digest = hashlib.sha256("\0".join((finding.rule_id, finding.path, content)).encode("utf-8")).hexdigest()
        seen[digest] += 1
        fingerprints.append(f"{digest[:32]}:{seen[digest]}")
    return fingerprints


def _region(span: Span) -> om.Region:
    return om.Region(
        start_line=span.start_line,
        start_column=span.start_col,
        end_line=span.end_line,
        end_column=span.end_col,
    )


def _physical(path: str, span: Span, artifacts: _Artifacts) -> om.PhysicalLocation:
    return om.PhysicalLocation(artifact_location=artifacts.location(path), region=_region(span))


def _escape_link_text(text: str) -> str:
    """Brackets are SARIF's embedded-link syntax in plain-text messages."""
    return text.replace("[", "\\[").replace("]", "\\]")


def _result(
    finding: Finding,
    rule_index: int,
    rules: list[RuleDoc],
    artifacts: _Artifacts,
    sources: _Sources,
    fingerprint: str,
) -> om.Result:
    related = [
        om.Location(
            id=number,
            message=om.Message(text=item.message),
            physical_location=_physical(finding.path, item.span, artifacts),
        )
        for number, item in enumerate(finding.related, start=1)
    ]
    text = _escape_link_text(finding.message)
    if related:
        # GitHub shows related locations only as links embedded in the message.
        links = ", ".join(
            f"[{_escape_link_text(item.message)}]({number})"
            for number, item in enumerate(finding.related, start=1)
        )
        text = f"{text} (related: {links})"
    return om.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=rules[rule_index].level,
        message=om.Message(text=text),
        locations=[om.Location(physical_location=_physical(finding.path, finding.span, artifacts))],
        related_locations=related or None,
        partial_fingerprints={FINGERPRINT_KEY: fingerprint},
        fixes=[_fix(finding, artifacts, sources)] if finding.fix is not None else None,
        suppressions=[om.Suppression(kind="inSource")] if finding.suppressed else None,
    )


def _fix(finding: Finding, artifacts: _Artifacts, sources: _Sources) -> om.Fix:
    source = sources.matching(finding)
    edits = sorted(finding.fix.edits, key=lambda edit: (edit.start_offset, edit.end_offset))
    return om.Fix(
        description=om.Message(text=finding.fix.description),
        artifact_changes=[
            om.ArtifactChange(
                artifact_location=artifacts.location(finding.path),
                replacements=[
                    om.Replacement(
                        deleted_region=_deleted_region(edit, source),
                        inserted_content=om.ArtifactContent(text=_inserted_text(edit, source)),
                    )
                    for edit in edits
                ],
            )
        ],
        properties={"applicability": finding.fix.applicability.value},
    )


def _deleted_region(edit: Edit, source: SourceFile | None) -> om.Region:
    """The edited text, as code-point offsets into the file's text after any BOM (SARIF's
    charOffset/charLength under columnKind unicodeCodePoints), plus the equivalent line and
    column region when the file still has the text the fix was computed on."""
    region = om.Region(char_offset=edit.start_offset, char_length=edit.end_offset - edit.start_offset)
    if source is not None and edit.end_offset <= len(source.text):
        span = source.span_from_offsets(edit.start_offset, edit.end_offset)
        region.start_line, region.start_column = span.start_line, span.start_col
        region.end_line, region.end_column = span.end_line, span.end_col
    return region


def _inserted_text(edit: Edit, source: SourceFile | None) -> str:
    """The replacement with the file's line endings, exactly what ``--fix`` inserts."""
    if source is None:
        return edit.replacement
    return with_newline(edit.replacement, newline_of(source.text))


def _notification(problem: Problem, artifacts: _Artifacts) -> om.Notification:
    region = om.Region(start_line=problem.line) if problem.line else None
    return om.Notification(
        message=om.Message(text=problem.message),
        level=problem.severity.value,
        locations=[
            om.Location(
                physical_location=om.PhysicalLocation(
                    artifact_location=artifacts.location(problem.path), region=region
                )
            )
        ],
    )
