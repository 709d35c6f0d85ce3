"""The LSP handlers and the lint queue.

Documents are linted one at a time on a worker thread, so the server keeps reading the
editor's messages meanwhile. A change is linted once the document has been quiet for
``DEBOUNCE_SECONDS``; changes that arrive while a lint runs are merged into one more lint of
the latest text, and a result that an edit has overtaken is never published. Every change
also re-lints the other open documents of its project (after the edited one), since a
finding in one file may rest on facts from another.

Diagnostics are pushed (``textDocument/publishDiagnostics``) to clients that do not pull
them; a client that declares ``textDocument/diagnostic`` pulls them instead and is asked to
pull again (``workspace/diagnostic/refresh``) when another document or the configuration
changes. Pushing as well would show every finding twice.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from lint_ws import __version__
from lint_ws.catalogue import all_rules
from lint_ws.python import reparse
from lint_ws.rust import summary as rust_summary
from lint_ws.findings import AllowCommentProblem, Applicability, FileResult, Finding, Severity
from lint_ws.server import convert
from lint_ws.server.project import CONFIG_FILES, Buffer, Project, Settings, is_config_file, settings_from
from lint_ws.source import SourceFile, language_of

FIX_ALL = "source.fixAll.lint-ws"
# Long enough to merge the changes a client sends back to back (a completion inserting
# text, a macro replaying edits) into one lint; short, since it adds to every edit's wait
# for its diagnostics (benchmarks/server.py). Changes made while a lint runs are merged
# whatever the delay, so keystrokes during a lint cost one more lint, not one each.
DEBOUNCE_SECONDS = 0.005
# Python documents whose latest parse is kept, so that an edit re-parses only the
# statements it touched (lint_ws.python.reparse); about 1 MB each for 1,000 lines.
KEPT_PARSES = 16
# Rust function summaries kept across edits (lint_ws.rust.summary.keep_records): an edit
# re-summarises only the functions it touched. Each is kept under the function's text, so
# a few kilobytes: enough for the open documents' functions, about 10 MB at most.
KEPT_FUNCTION_RECORDS = 5_000
MESSAGE_TYPE = {
    Severity.ERROR: types.MessageType.Error,
    Severity.WARNING: types.MessageType.Warning,
    Severity.NOTE: types.MessageType.Info,
}


class Linted(NamedTuple):
    buffer: Buffer
    generation: int  # the project's, when the lint started
    result: FileResult
    index: convert.TextIndex
    diagnostics: list[types.Diagnostic]


class LintWsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("lint-ws", __version__)
        self.settings = Settings()
        self.projects: list[Project] = []
        self.project_of: dict[str, Project] = {}  # open document uri -> its project
        self.linted: dict[str, Linted] = {}
        self.logged: dict[str, tuple[str, ...]] = {}  # problems already logged per document
        self.queue: OrderedDict[str, None] = OrderedDict()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.in_flight: dict[str, tuple[tuple[str, int], asyncio.Task]] = {}  # uri -> (text, generation), lint
        self.drain: asyncio.Task | None = None
        # One thread: lints never run concurrently, and the engine's per-process caches
        # (rule modules, parsers) are shared by all of them.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lint-ws")
        reparse.remember(KEPT_PARSES)
        rust_summary.keep_records(KEPT_FUNCTION_RECORDS)

    # Client capabilities ------------------------------------------------------------

    @property
    def pulls_diagnostics(self) -> bool:
        document = self.client_capabilities.text_document
        return document is not None and document.diagnostic is not None

    @property
    def refreshes_diagnostics(self) -> bool:
        workspace = self.client_capabilities.workspace
        return workspace is not None and workspace.diagnostics is not None and bool(workspace.diagnostics.refresh_support)

    @property
    def versioned_edits(self) -> bool:
        workspace = self.client_capabilities.workspace
        return workspace is not None and workspace.workspace_edit is not None and bool(workspace.workspace_edit.document_changes)

    # Messages to the user -----------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=f"lint-ws: {message}"))

    def complain(self, message: str) -> None:
        """A problem the user must fix (their configuration): shown, and logged."""
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"lint-ws: {message}"))
        self.log(message, types.MessageType.Error)

    # Projects and buffers ----------------------------------------------------------

    def add_project(self, root: Path) -> Project:
        project = Project(root, self.settings)
        error = project.reload_config()
        if error:
            self.complain(error)
        self.projects.append(project)
        return project

    def project_for(self, path: Path) -> Project:
        """The innermost workspace folder holding ``path``; outside every folder, a project
        of the file's directory (whose configuration is found by walking up from it)."""
        holding = [project for project in self.projects if project.contains(path)]
        if holding:
            return max(holding, key=lambda project: len(project.root.parts))
        return self.add_project(path.parent)

    def track(self, uri: str) -> Project | None:
        """Copy the document's text into its project's overlay; None for a document lint-ws
        does not lint (not ``.rs`` / ``.py`` / ``.pyi``, not a file)."""
        fs_path = to_fs_path(uri)
        if fs_path is None or language_of(fs_path) is None:
            return None
        path = Path(fs_path)
        project = self.project_of.get(uri) or self.project_for(path)
        document = self.workspace.get_text_document(uri)
        project.update(Buffer(uri, path, document.source, document.version))
        self.project_of[uri] = project
        return project

    def buffer(self, uri: str) -> Buffer | None:
        project = self.project_of.get(uri)
        return None if project is None else project.buffers.get(uri)

    def reload_configuration(self) -> None:
        for project in self.projects:
            error = project.reload_config()
            if error:
                self.complain(error)
        self.relint(self.projects)

    # Linting -----------------------------------------------------------------------

    def changed(self, uri: str, project: Project, delay: float) -> None:
        """``uri`` changed: lint it (after ``delay``), then the other open documents of its
        project; a pulling client is asked to pull them again instead."""
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if delay:
            self.timers[uri] = asyncio.get_running_loop().call_later(delay, self._after_quiet, uri, project)
        else:
            self._after_quiet(uri, project)

    def _after_quiet(self, uri: str, project: Project) -> None:
        self.timers.pop(uri, None)
        others = [other for other in project.buffers if other != uri]
        if self.pulls_diagnostics:
            if others and self.refreshes_diagnostics:
                self.workspace_diagnostic_refresh(None)
            return
        self.enqueue([uri], first=True)
        self.enqueue(others)

    def relint(self, projects: list[Project]) -> None:
        """Lint the open documents of ``projects`` again (or have them pulled again)."""
        if self.pulls_diagnostics:
            if self.refreshes_diagnostics:
                self.workspace_diagnostic_refresh(None)
            return
        self.enqueue([uri for project in projects for uri in project.buffers])

    def enqueue(self, uris: list[str], first: bool = False) -> None:
        for uri in reversed(uris) if first else uris:
            self.queue[uri] = None
            if first:
                self.queue.move_to_end(uri, last=False)
        if uris and (self.drain is None or self.drain.done()):
            self.drain = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self.queue:
            uri, _ = self.queue.popitem(last=False)
            try:
                linted = await self.lint(uri)
                # An edit that arrived meanwhile makes this result stale: the edit's own
                # lint will publish.
                if linted is not None and linted.buffer == self.buffer(uri):
                    self.publish(uri, linted)
            except Exception as error:  # the queue must outlive any one document
                message = f"internal error linting {uri} ({type(error).__name__}: {error}); please report it"
                self.log(message, types.MessageType.Error)

    def publish(self, uri: str, linted: Linted) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=linted.diagnostics, version=linted.buffer.version)
        )

    async def lint(self, uri: str, same_generation: bool = True) -> Linted | None:
        """The lint of the document's current text: the stored one when it is still
        current (``same_generation``: no other buffer changed since, either), the one
        under way, or a new one."""
        project = self.project_of.get(uri)
        buffer = None if project is None else project.buffers.get(uri)
        if buffer is None:
            return None
        stored = self.linted.get(uri)
        if stored is not None and stored.buffer == buffer and (stored.generation == project.generation or not same_generation):
            return stored
        key = (buffer.text, project.generation)
        flight = self.in_flight.get(uri)
        if flight is None or flight[0] != key:
            flight = (key, asyncio.create_task(self._lint_now(uri, buffer, project)))
            self.in_flight[uri] = flight
        try:
            # Shielded: a cancelled request (the cursor moved on) leaves the lint running
            # for whoever else waits for it.
            return await asyncio.shield(flight[1])
        finally:
            if self.in_flight.get(uri) is flight and flight[1].done():
                del self.in_flight[uri]

    async def _lint_now(self, uri: str, buffer: Buffer, project: Project) -> Linted:
        generation = project.generation
        result = await asyncio.get_running_loop().run_in_executor(self.executor, project.lint, buffer)
        index = convert.TextIndex(buffer.text, self.workspace.position_encoding or types.PositionEncodingKind.Utf16)
        linted = Linted(buffer, generation, result, index, convert.diagnostics(result, index, uri))
        current = self.buffer(uri)
        if current is not None:
            self.linted[uri] = linted
        if current == buffer:  # a text already edited away is not worth a message
            self.log_problems(uri, result)
        return linted

    def log_problems(self, uri: str, result: FileResult) -> None:
        """One log message per problem that stops the analysis (a syntax error...), not one
        per keystroke while it lasts; allow-comment problems are diagnostics instead."""
        problems = [problem for problem in result.problems if not isinstance(problem, AllowCommentProblem)]
        rendered = tuple(problem.render() for problem in problems)
        if rendered == self.logged.get(uri, ()):
            return
        self.logged[uri] = rendered
        for problem in problems:
            self.log(problem.render(), MESSAGE_TYPE[problem.severity])

    def forget(self, uri: str) -> None:
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self.queue.pop(uri, None)
        self.linted.pop(uri, None)
        self.logged.pop(uri, None)
        project = self.project_of.pop(uri, None)
        if project is not None:
            project.close(uri)

    # Code actions ------------------------------------------------------------------

    def workspace_edit(self, buffer: Buffer, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        if self.versioned_edits:
            document = types.OptionalVersionedTextDocumentIdentifier(uri=buffer.uri, version=buffer.version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)])
        return types.WorkspaceEdit(changes={buffer.uri: edits})

    def finding_actions(self, linted: Linted, finding: Finding) -> list[types.CodeAction]:
        from lint_ws.suppression import allow_edit

        diagnostic = convert.finding_diagnostic(finding, linted.index, linted.buffer.uri)
        actions = []
        fix = finding.fix
        if fix is not None:
            safe = fix.applicability is Applicability.SAFE
            actions.append(
                types.CodeAction(
                    title=f"{finding.rule_id}: {fix.description}" + ("" if safe else " (unsafe fix: review it)"),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    # Only a safe fix may be applied without a look ("fix the problem at the
                    # cursor", auto-fix): an unsafe one changes behaviour.
                    is_preferred=safe,
                    edit=self.workspace_edit(linted.buffer, convert.text_edits(fix.edits, linted.index)),
                )
            )
        text = linted.buffer.text
        source = SourceFile(finding.path, language_of(finding.path), text.encode("utf-8", errors="replace"), text, "utf-8", False)
        allow = allow_edit(source, finding.span.start_line, finding.rule_id)
        actions.append(
            types.CodeAction(
                title=f"Allow {finding.rule_id} on this line",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=self.workspace_edit(linted.buffer, convert.text_edits([allow], linted.index)),
            )
        )
        return actions


def _wants(only: list[str] | None, kind: str) -> bool:
    """Whether a code action request's ``only`` filter admits ``kind`` (kinds are
    hierarchical: ``source`` admits ``source.fixAll.lint-ws``)."""
    return only is None or any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def create_server() -> LintWsServer:
    server = LintWsServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: LintWsServer, params: types.InitializeParams) -> None:
        ls.settings, complaints = settings_from(params.initialization_options)
        for complaint in complaints:
            ls.complain(complaint)
        for folder in params.workspace_folders or ():
            root = to_fs_path(folder.uri)
            if root is not None:
                ls.add_project(Path(root))
        root = ls.workspace.root_path
        if not ls.projects and root:
            ls.add_project(Path(root))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: LintWsServer, params: types.InitializedParams) -> None:
        workspace = ls.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
        registration = types.Registration(
            id="lint-ws-configuration",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LintWsServer, params: types.DidOpenTextDocumentParams) -> None:
        project = ls.track(params.text_document.uri)
        if project is not None:
            ls.changed(params.text_document.uri, project, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LintWsServer, params: types.DidChangeTextDocumentParams) -> None:
        project = ls.track(params.text_document.uri)
        if project is not None:
            ls.changed(params.text_document.uri, project, delay=DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LintWsServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_config_file(to_fs_path(uri) or ""):
            ls.reload_configuration()
            return
        project = ls.project_of.get(uri)
        if project is not None:
            ls.changed(uri, project, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LintWsServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        project = ls.project_of.get(uri)
        if project is None:
            return
        ls.forget(uri)
        if not ls.pulls_diagnostics:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        ls.relint([project])  # the file is read from disk again now

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: LintWsServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(is_config_file(to_fs_path(change.uri) or "") for change in params.changes):
            ls.reload_configuration()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="lint-ws", inter_file_dependencies=True, workspace_diagnostics=False),
    )
    async def pull_diagnostics(ls: LintWsServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        linted = await ls.lint(params.text_document.uri)
        return types.RelatedFullDocumentDiagnosticReport(items=[] if linted is None else linted.diagnostics)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LintWsServer, params: types.HoverParams) -> types.Hover | None:
        linted = await ls.lint(params.text_document.uri, same_generation=False)
        if linted is None:
            return None
        under = [
            (diagnostic, all_rules()[diagnostic.code])
            for diagnostic in linted.diagnostics
            if diagnostic.code is not None and convert.contains(diagnostic.range, params.position)
        ]
        if not under:
            return None
        text = "\n\n---\n\n".join(dict.fromkeys(convert.hover_markdown(rule) for _, rule in under))
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=under[0][0].range
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    async def code_action(ls: LintWsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        linted = await ls.lint(params.text_document.uri, same_generation=False)
        if linted is None:
            return None
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wants(only, types.CodeActionKind.QuickFix):
            for finding in linted.result.findings:
                if not finding.suppressed and convert.overlaps(convert.finding_range(finding, linted.index), params.range):
                    actions.extend(ls.finding_actions(linted, finding))
        # Fixing the whole file takes a lint per pass: done when asked for by kind (fix on
        # save) or by the user, not for every lightbulb the cursor moves through.
        explicit = only is not None or params.context.trigger_kind != types.CodeActionTriggerKind.Automatic
        safe_fixes = any(
            not f.suppressed and f.fix is not None and f.fix.applicability is Applicability.SAFE for f in linted.result.findings
        )
        project = ls.project_of.get(params.text_document.uri)
        if explicit and safe_fixes and project is not None and _wants(only, FIX_ALL):
            fixed = await asyncio.get_running_loop().run_in_executor(ls.executor, project.fix_all, linted.buffer)
            if fixed is not None:
                edit = convert.replacement_edit(linted.buffer.text, fixed)
                actions.append(
                    types.CodeAction(
                        title="lint-ws: apply all safe fixes",
                        kind=FIX_ALL,
                        edit=ls.workspace_edit(linted.buffer, convert.text_edits([edit], linted.index)),
                    )
                )
        return actions

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: LintWsServer, params: None) -> None:
        ls.executor.shutdown(wait=False, cancel_futures=True)

    return server
