"""SARIF reporter: schema validity, every field code scanning uses, fingerprints, fixes."""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from cli_runner import run_cli

from lint_ws.catalogue import all_rules
from lint_ws.findings import Applicability, Edit, Finding, Fix, Problem, Related, Severity
from lint_ws.fixes import apply_fixes
from lint_ws.reporters import Report
from lint_ws.reporters.sarif import FINGERPRINT_KEY, render, to_json
from lint_ws.source import decode

REPO = Path(__file__).resolve().parent.parent
SCHEMA_ENV = "LINT_WS_SARIF_SCHEMA"
DEFAULT_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="session")
def sarif_validator():
    """A validator for the OASIS SARIF 2.1.0 schema; the tests using it skip without it."""
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = Path(os.environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA)
    if not schema_path.is_file():
        pytest.skip(
            f"SARIF 2.1.0 schema not found at {schema_path}: set {SCHEMA_ENV} to the path of "
            "sarif-schema-2.1.0.json to run the schema checks (the tests do not download it)"
        )
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def assert_valid(validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def assert_consistent(log: dict) -> None:
    """What every lint-ws log must satisfy, whatever findings the rules produce."""
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lint-ws"
    assert driver["version"] and driver["semanticVersion"] and driver["informationUri"]
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == sorted(rule["id"] for rule in rules)
    for rule in rules:
        doc = all_rules()[rule["id"]]
        assert rule["name"] == doc.name
        assert rule["shortDescription"]["text"] == doc.summary
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"] == rule["help"]["markdown"] == doc.doc
        assert rule["defaultConfiguration"]["level"] == doc.level
        assert rule["properties"]["tags"] == list(doc.tags)
        assert rule["properties"]["precision"] == doc.precision
    assert run["columnKind"] == "unicodeCodePoints"
    assert_uris_well_formed(log)
    root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root.startswith("file:///") and root.endswith("/")
    artifacts = run.get("artifacts", [])
    fingerprints = set()
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] == rule["defaultConfiguration"]["level"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert_artifact_reference(physical["artifactLocation"], artifacts)
        region = physical["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= region.keys()
        for related in result.get("relatedLocations", []):
            assert related["id"] >= 1 and related["message"]["text"]
            assert_artifact_reference(related["physicalLocation"]["artifactLocation"], artifacts)
            assert f"]({related['id']})" in result["message"]["text"]
        fingerprint = result["partialFingerprints"][FINGERPRINT_KEY]
        assert fingerprint not in fingerprints, "two results share a fingerprint"
        fingerprints.add(fingerprint)
        for fix in result.get("fixes", []):
            assert fix["description"]["text"]
            for change in fix["artifactChanges"]:
                assert_artifact_reference(change["artifactLocation"], artifacts)
                assert change["replacements"]
    (invocation,) = run["invocations"]
    notifications = invocation.get("toolExecutionNotifications", [])
    assert invocation["executionSuccessful"] == (not any(n["level"] == "error" for n in notifications))
    for notification in notifications:
        assert notification["message"]["text"]
        assert_artifact_reference(notification["locations"][0]["physicalLocation"]["artifactLocation"], artifacts)


URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def uris(value):
    """Every ``uri`` property anywhere in a SARIF document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "uri":
                yield item
            else:
                yield from uris(item)
    elif isinstance(value, list):
        for item in value:
            yield from uris(item)


def assert_uris_well_formed(log: dict) -> None:
    """The schema's "uri" formats are not checked by jsonschema without extra packages."""
    for uri in uris(log):
        assert URI_CHARACTERS.fullmatch(uri), f"not an RFC 3986 URI reference: {uri!r}"
        assert not re.search(r"%(?![0-9A-F]{2})", uri), uri


def assert_artifact_reference(location: dict, artifacts: list) -> None:
    artifact = artifacts[location["index"]]["location"]
    assert artifact["uri"] == location["uri"]
    assert artifact.get("uriBaseId") == location.get("uriBaseId")


def sarif_text(report: Report) -> str:
    stream = io.StringIO()
    render(report, stream)
    return stream.getvalue()


def sarif_log(report: Report) -> dict:
    return json.loads(sarif_text(report))


# --- synthetic findings: every field the reporter writes, independent of the rules ---

PYTHON_SOURCE = """\
import asyncio


async def pump(ws, outbox, msg):
    try:
        outbox.put_nowait(msg)
    except asyncio.QueueFull:
        await ws.close(code=1013)


async def relay(ws, outbox, msg):
    try:
        outbox.put_nowait(msg)
    except asyncio.QueueFull:
        await ws.close(code=1013)  # lint-ws: allow[WS001]
"""

# BOM, CRLF line endings and non-ASCII text before the finding: columns and offsets must
# count code points of the text after the BOM.
RUST_SOURCE = (
    "\ufefffn main() {\r\n"
    "    let naïve = \"ü→\"; handle.abort();\r\n"
    "    écrire(handle);\r\n"
    "}\r\n"
)


def span_of(source, needle: str, occurrence: int = 0):
    start = -1
    for _ in range(occurrence + 1):
        start = source.text.index(needle, start + 1)
    return source.span_from_offsets(start, start + len(needle))


def write_sources(root: Path) -> tuple:
    (root / "app").mkdir()
    (root / "app" / "pump.py").write_text(PYTHON_SOURCE, encoding="utf-8")
    (root / "app" / "ws stream.rs").write_bytes(RUST_SOURCE.encode("utf-8"))
    python = decode("app/pump.py", (root / "app" / "pump.py").read_bytes(), "python")
    rust = decode("app/ws stream.rs", (root / "app" / "ws stream.rs").read_bytes(), "rust")
    return python, rust


def synthetic_findings(python, rust) -> list[Finding]:
    close = span_of(python, "await ws.close(code=1013)")
    put = span_of(python, "outbox.put_nowait(msg)")
    abort = span_of(rust, "handle.abort()")
    name = span_of(rust, "naïve")
    call = span_of(rust, "écrire(handle)")
    return [
        Finding(
            rule_id="WS001",
            path="app/pump.py",
            span=close,
            message="a full queue [asyncio.QueueFull] closes the connection",
            related=(Related(put, "the non-blocking put"),),
            fix=Fix(
                "skip the message instead of disconnecting",
                Applicability.UNSAFE,
                (Edit(close.start_offset, close.end_offset, "pass  # message dropped"),),
            ),
        ),
        Finding(
            rule_id="WS001",
            path="app/pump.py",
            span=span_of(python, "await ws.close(code=1013)", occurrence=1),
            message="a full queue [asyncio.QueueFull] closes the connection",
            related=(Related(span_of(python, "outbox.put_nowait(msg)", occurrence=1), "the non-blocking put"),),
            suppressed=True,
        ),
        Finding(
            rule_id="WS002",
            path="app/ws stream.rs",
            span=abort,
            message="the pump is aborted without a Close frame",
            related=(
                Related(name, "the naïve binding"),
                Related(call, "the writer"),
                Related(span_of(rust, "main"), "the entry point"),
            ),
            fix=Fix(
                "signal, then join with a timeout",
                Applicability.SAFE,
                (
                    Edit(call.start_offset, call.start_offset + len("écrire"), "write_all"),
                    # Rules write "\n"; the file's CRLF must come out, as with --fix.
                    Edit(abort.start_offset, abort.end_offset, "token.cancel();\n    handle.await"),
                ),
            ),
        ),
    ]


@pytest.fixture
def synthetic(tmp_path):
    python, rust = write_sources(tmp_path)
    findings = sorted(synthetic_findings(python, rust), key=Finding.sort_key)
    problems = [
        Problem("app/broken.py", "not valid utf-8: byte 0xff at offset 3", Severity.ERROR, 1),
        Problem("app/huge.py", "libcst cannot parse this file; analysed with ast", Severity.WARNING),
        Problem("app/odd.rs", "grammar gap", Severity.NOTE, 7),
    ]
    report = Report(findings=findings, problems=problems, files_checked=5, root=tmp_path)
    return report, python, rust


def result_for(log: dict, rule_id: str, suppressed: bool = False) -> dict:
    (result,) = [
        r for r in log["runs"][0]["results"] if r["ruleId"] == rule_id and ("suppressions" in r) == suppressed
    ]
    return result


def test_synthetic_log_is_valid_and_consistent(synthetic, sarif_validator):
    report, _, _ = synthetic
    log = sarif_log(report)
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == list(all_rules())


def test_result_fields(synthetic):
    report, python, _ = synthetic
    log = sarif_log(report)
    result = result_for(log, "WS001")
    assert result["level"] == "error"
    assert result["message"]["text"] == (
        "a full queue \\[asyncio.QueueFull\\] closes the connection (related: [the non-blocking put](1))"
    )
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/pump.py"
    assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert location["region"] == {"startLine": 8, "startColumn": 9, "endLine": 8, "endColumn": 34}
    (related,) = result["relatedLocations"]
    assert related["id"] == 1
    assert related["message"]["text"] == "the non-blocking put"
    assert related["physicalLocation"]["region"] == {"startLine": 6, "startColumn": 9, "endLine": 6, "endColumn": 31}
    assert "suppressions" not in result
    assert result["fixes"][0]["description"]["text"] == "skip the message instead of disconnecting"
    assert result["fixes"][0]["properties"] == {"applicability": "unsafe"}


def test_suppressed_findings_carry_in_source_suppression(synthetic):
    log = sarif_log(synthetic[0])
    suppressed = result_for(log, "WS001", suppressed=True)
    assert suppressed["suppressions"] == [{"kind": "inSource"}]
    assert suppressed["locations"][0]["physicalLocation"]["region"]["startLine"] == 15


def test_columns_count_code_points_and_uris_are_percent_encoded(synthetic):
    log = sarif_log(synthetic[0])
    result = result_for(log, "WS002")
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/ws%20stream.rs"
    # `    let naïve = "ü→"; ` is 22 code points but 26 UTF-8 bytes.
    assert location["region"] == {"startLine": 2, "startColumn": 23, "endLine": 2, "endColumn": 37}
    related = [r["physicalLocation"]["region"] for r in result["relatedLocations"]]
    assert related[0] == {"startLine": 2, "startColumn": 9, "endLine": 2, "endColumn": 14}
    # The BOM is not a column: `main` starts at column 4 of the first line.
    assert related[2] == {"startLine": 1, "startColumn": 4, "endLine": 1, "endColumn": 8}
    assert [r["id"] for r in result["relatedLocations"]] == [1, 2, 3]


def test_artifacts_languages_and_roots(synthetic, tmp_path):
    run = sarif_log(synthetic[0])["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    by_uri = {a["location"]["uri"]: a for a in run["artifacts"]}
    assert by_uri["app/pump.py"]["sourceLanguage"] == "python"
    assert by_uri["app/ws%20stream.rs"]["sourceLanguage"] == "rust"
    assert all(a["location"]["uriBaseId"] == "%SRCROOT%" for a in run["artifacts"])
    assert sorted(by_uri) == [a["location"]["uri"] for a in run["artifacts"]]


def test_notifications_for_every_problem(synthetic):
    invocation = sarif_log(synthetic[0])["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notifications = invocation["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["error", "warning", "note"]
    first = notifications[0]
    assert first["message"]["text"] == "not valid utf-8: byte 0xff at offset 3"
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "app/broken.py"
    assert physical["region"] == {"startLine": 1}
    assert "region" not in notifications[1]["locations"][0]["physicalLocation"]


def test_warnings_alone_keep_execution_successful(synthetic):
    report = synthetic[0]
    report.problems = [p for p in report.problems if p.severity is not Severity.ERROR]
    invocation = sarif_log(report)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True


def apply_by_offsets(text: str, replacements: list[dict]) -> str:
    """Apply SARIF replacements by charOffset/charLength, last first."""
    for replacement in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        region = replacement["deletedRegion"]
        start, end = region["charOffset"], region["charOffset"] + region["charLength"]
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
    return text


def apply_by_lines(text: str, replacements: list[dict]) -> str:
    """Apply SARIF replacements by their line/column region (columns in code points)."""
    lines = text.splitlines(keepends=True)
    starts = [sum(len(line) for line in lines[:index]) for index in range(len(lines) + 1)]

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    ordered = sorted(replacements, key=lambda r: (r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"]))
    for replacement in reversed(ordered):
        region = replacement["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
    return text


def file_text(path: Path) -> str:
    """The artifact's text as an independent consumer reads it: UTF-8, BOM dropped."""
    return path.read_bytes().decode("utf-8-sig")


def test_fix_replacements_apply_exactly(synthetic, tmp_path):
    log = sarif_log(synthetic[0])
    rust_fix = result_for(log, "WS002")["fixes"][0]
    (change,) = rust_fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app/ws%20stream.rs"
    expected = (
        "fn main() {\r\n"
        "    let naïve = \"ü→\"; token.cancel();\r\n    handle.await;\r\n"
        "    write_all(handle);\r\n"
        "}\r\n"
    )
    original = file_text(tmp_path / "app" / "ws stream.rs")
    assert apply_by_offsets(original, change["replacements"]) == expected
    assert apply_by_lines(original, change["replacements"]) == expected
    rust_finding = next(f for f in synthetic[0].findings if f.rule_id == "WS002")
    assert apply_fixes(original, [rust_finding.fix]).text == expected, "SARIF and --fix disagree"

    python_fix = result_for(log, "WS001")["fixes"][0]
    (change,) = python_fix["artifactChanges"]
    original = file_text(tmp_path / "app" / "pump.py")
    expected = original.replace("await ws.close(code=1013)\n", "pass  # message dropped\n", 1)
    assert apply_by_offsets(original, change["replacements"]) == expected
    assert apply_by_lines(original, change["replacements"]) == expected


def test_fix_region_without_readable_source_keeps_offsets(synthetic, tmp_path):
    (tmp_path / "app" / "ws stream.rs").unlink()
    change = result_for(sarif_log(synthetic[0]), "WS002")["fixes"][0]["artifactChanges"][0]
    regions = [r["deletedRegion"] for r in change["replacements"]]
    assert all(region.keys() == {"charOffset", "charLength"} for region in regions)


def fingerprint_of(text: str, tmp_path: Path, needle: str) -> list[str]:
    """Fingerprints of WS001 findings on every occurrence of ``needle`` in ``text``."""
    (tmp_path / "svc.py").write_text(text, encoding="utf-8")
    source = decode("svc.py", text.encode("utf-8"), "python")
    findings = []
    start = text.find(needle)
    while start != -1:
        span = source.span_from_offsets(start, start + len(needle))
        findings.append(Finding("WS001", "svc.py", span, f"finding at line {span.start_line}"))
        start = text.find(needle, start + 1)
    log = sarif_log(Report(findings=findings, problems=[], files_checked=1, root=tmp_path))
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]


def test_fingerprints_survive_lines_added_above(tmp_path):
    original = PYTHON_SOURCE.replace("  # lint-ws: allow[WS001]", "")
    before = fingerprint_of(original, tmp_path, "await ws.close(code=1013)")
    edited = "# a new header comment\n\n" + original.replace(
        "async def relay", "def unrelated():\n    return 42\n\n\nasync def relay"
    )
    after = fingerprint_of(edited, tmp_path, "await ws.close(code=1013)")
    assert len(before) == 2 and len(set(before)) == 2, "identical lines must get distinct fingerprints"
    assert after == before


def test_fingerprint_changes_when_the_offending_line_changes(tmp_path):
    (before,) = fingerprint_of("if x:\n    await ws.close(code=1013)\n", tmp_path, "ws.close")
    (after,) = fingerprint_of("if x:\n    await ws.close(code=1000)\n", tmp_path, "ws.close")
    assert before != after


def test_output_is_deterministic(synthetic):
    report = synthetic[0]
    assert sarif_text(report) == sarif_text(report)


def test_output_is_ascii_whatever_the_source_text(synthetic):
    text = sarif_text(synthetic[0])
    assert text.isascii()
    assert "the na\\u00efve binding" in text
    assert "[the naïve binding](1)" in json.loads(text)["runs"][0]["results"][-1]["message"]["text"]


def test_path_outside_the_working_directory_is_an_absolute_uri(tmp_path, sarif_validator):
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "elsewhere.py").write_text("x = 1\n", encoding="utf-8")
    source = decode("../elsewhere.py", b"x = 1\n", "python")
    finding = Finding("WS004", "../elsewhere.py", source.span_from_offsets(0, 1), "message")
    log = sarif_log(Report(findings=[finding], problems=[], files_checked=1, root=root))
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == (tmp_path / "elsewhere.py").as_uri()
    assert "uriBaseId" not in location


def test_only_the_checked_rules_are_described(tmp_path, sarif_validator):
    log = sarif_log(Report(findings=[], problems=[], files_checked=0, root=tmp_path, rules=("WS004", "WS002")))
    assert_valid(sarif_validator, log)
    run = log["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["WS002", "WS004"]
    assert run["results"] == []
    assert "artifacts" not in run


def test_serialiser_uses_schema_names_and_omits_unset_fields():
    import sarif_om as om

    result = om.Result(message=om.Message(text="m"), rule_id="WS001", level="warning")
    assert to_json(result) == {"message": {"text": "m"}, "ruleId": "WS001", "level": "warning"}
    region = om.Region(char_offset=0, char_length=0)
    assert to_json(region) == {"charOffset": 0, "charLength": 0}


# --- the installed command line over real inputs ---


def cli_sarif(
    tmp_path: Path, *args: str, cwd: Path = REPO, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, bytes]:
    output = tmp_path / "out.sarif"
    completed = run_cli("check", "--format", "sarif", "--jobs", "1", "-o", str(output), *args, cwd=cwd, env=env)
    assert completed.returncode in (0, 1, 2), completed.stderr
    assert "Traceback" not in completed.stderr
    return completed, output.read_bytes()


def assert_fixes_apply_consistently(log: dict, root: Path) -> None:
    """Both descriptions of every deleted region (offsets, lines) cut the same text."""
    for result in log["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            for change in fix["artifactChanges"]:
                original = file_text(root / unquote(change["artifactLocation"]["uri"]))
                by_offsets = apply_by_offsets(original, change["replacements"])
                assert by_offsets == apply_by_lines(original, change["replacements"]), result["message"]
                assert by_offsets != original


def test_cli_examples_and_fixtures_are_valid_and_deterministic(tmp_path, sarif_validator):
    # A copy, so that both runs see the same files even while the tree is being edited.
    project = tmp_path / "project"
    paths = [path for path in ("examples", "tests/fixtures") if (REPO / path).is_dir()]
    assert paths
    for path in paths:
        shutil.copytree(REPO / path, project / path, symlinks=True)
    # Different hash seeds: set iteration order must not leak into the output.
    completed, first = cli_sarif(tmp_path, *paths, cwd=project, env={"PYTHONHASHSEED": "1"})
    log = json.loads(first)
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    assert_fixes_apply_consistently(log, project)
    if not log["runs"][0]["invocations"][0]["executionSuccessful"]:
        expected_exit = 2
    elif any("suppressions" not in result for result in log["runs"][0]["results"]):
        expected_exit = 1
    else:
        expected_exit = 0
    assert completed.returncode == expected_exit, completed.stderr
    _, second = cli_sarif(tmp_path, *paths, cwd=project, env={"PYTHONHASHSEED": "2"})
    difference = "".join(
        difflib.unified_diff(first.decode().splitlines(True), second.decode().splitlines(True), n=2)
    )
    assert first == second, difference[:3000]


@pytest.mark.parametrize("language", ["rust", "python"])
def test_cli_each_rule_fixture_directory_is_valid(tmp_path, sarif_validator, language):
    fixtures = REPO / "tests" / "fixtures" / language
    directories = sorted(p for p in fixtures.iterdir() if p.is_dir()) if fixtures.is_dir() else []
    if not directories:
        pytest.skip(f"no {language} rule fixtures yet")
    for directory in directories:
        args = ["--select", directory.name] if directory.name in all_rules() else []
        _, output = cli_sarif(tmp_path, *args, str(directory.relative_to(REPO)))
        log = json.loads(output)
        assert_valid(sarif_validator, log)
        assert_consistent(log)


def test_cli_bad_input_becomes_notifications(tmp_path, sarif_validator):
    project = tmp_path / "project"
    project.mkdir()
    (project / "ok.py").write_text("import asyncio\n", encoding="utf-8")
    (project / "binary.py").write_bytes(b"\x00\x01\x02 binary")
    (project / "latin1.rs").write_bytes(b"fn main() {}\n// caf\xe9\n")
    (project / "dangling.py").symlink_to(project / "missing-target.py")
    # Files no rule could flag are not parsed at all; this one names what the rules look for.
    (project / "syntax.py").write_text("task.cancel()\nawait ws.send(x)\nq.put_nowait(m)\ndef broken(:\n", encoding="utf-8")
    (project / "pipe.py").touch() if not hasattr(os, "mkfifo") else os.mkfifo(project / "pipe.py")
    completed, output = cli_sarif(tmp_path, ".", "does-not-exist.rs", cwd=project)
    assert completed.returncode == 2
    log = json.loads(output)
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notified = {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
        for n in invocation["toolExecutionNotifications"]
    }
    assert {"binary.py", "latin1.rs", "dangling.py", "syntax.py", "does-not-exist.rs"} <= notified.keys()
    if hasattr(os, "mkfifo"):
        assert "pipe.py" in notified
    assert notified["syntax.py"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 4}
    assert notified["does-not-exist.rs"]["message"]["text"] == "no such file or directory"
    assert all(n["level"] == "error" for n in notified.values())
    assert notified["latin1.rs"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    root = urlparse(log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"])
    assert Path(unquote(root.path)).resolve() == project.resolve()


RUST_CHECK_THEN_SEND = """\
impl Conn {
    async fn send(&mut self, payload: String) -> Result<(), Error> {
        if self.is_closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        // lint-ws: allow(WS004)
        self.stream.send(Message::Text(payload)).await?;
        Ok(())
    }

    async fn send_again(&mut self, payload: String) -> Result<(), Error> {
        if self.is_closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.stream.send(Message::Text(payload)).await?;
        Ok(())
    }

    // what `is_closed` means comes from where it is written
    async fn close(&mut self) {
        let _ = self.stream.close(None).await;
        self.is_closed.store(true, Ordering::SeqCst);
    }
}

struct Conn {
    is_closed: AtomicBool,
    stream: tokio_tungstenite::WebSocketStream<TcpStream>,
}
"""


def test_cli_inline_suppression_reaches_sarif(tmp_path, sarif_validator):
    project = tmp_path / "project"
    project.mkdir()
    (project / "conn.rs").write_text(RUST_CHECK_THEN_SEND, encoding="utf-8")
    completed, output = cli_sarif(tmp_path, "--select", "WS004", "conn.rs", cwd=project)
    log = json.loads(output)
    assert_valid(sarif_validator, log)
    assert_consistent(log)
    results = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r for r in log["runs"][0]["results"]
    }
    assert sorted(results) == [7, 15], completed.stderr
    assert results[7]["suppressions"] == [{"kind": "inSource"}]
    assert "suppressions" not in results[15]
    assert completed.returncode == 1
    assert results[7]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 3
