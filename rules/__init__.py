"""The rule catalogue: one Markdown file per rule, TOML front matter for its metadata.

Installed as the ``lint_ws.catalogue`` package so the docs ship in the wheel; used by
``lint-ws rule``, the reporters (SARIF rule help) and the rule registry (levels).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import NamedTuple

from lint_ws import HOMEPAGE

FRONT_MATTER = "+++"
_HERE = os.path.dirname(os.path.abspath(__file__))


class RuleDoc(NamedTuple):
    id: str
    name: str  # the slug, e.g. "try-send-disconnect"
    level: str  # SARIF level: "error", "warning" or "note"
    summary: str  # one line
    tags: tuple[str, ...]
    precision: str  # SARIF precision: "very-high", "high", "medium", "low"
    fix: str  # "safe", "unsafe", "none": the strongest fix any language offers
    doc: str  # the Markdown body: why, bad and good examples, suppression

    @property
    def title(self) -> str:
        return f"{self.id} {self.name}"

    @property
    def help_uri(self) -> str:
        """Where the rule's doc is read online: SARIF's ``helpUri``, the editor's link."""
        return f"{HOMEPAGE}/blob/main/rules/{self.id}.md"


def _parse(text: str) -> RuleDoc:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    _, header, body = text.split(FRONT_MATTER, 2)
    meta = tomllib.loads(header)
    return RuleDoc(
        id=meta["id"],
        name=meta["name"],
        level=meta["level"],
        summary=meta["summary"],
        tags=tuple(meta["tags"]),
        precision=meta["precision"],
        fix=meta["fix"],
        doc=body.strip() + "\n",
    )


@cache
def all_rules() -> dict[str, RuleDoc]:
    """Every rule of the catalogue by id, in id order."""
    docs = [_parse(_read_doc(rule_id)) for rule_id in rule_ids()]
    return {doc.id: doc for doc in sorted(docs, key=lambda doc: doc.id)}


@cache
def rule_ids() -> frozenset[str]:
    """The id of every rule, from the docs' file names: what selecting and validating rule
    ids needs, without parsing the docs."""
    # The docs are files beside this module (pip installs packages unpacked); listing them
    # directly spares every run importing importlib.resources.
    return frozenset(entry.name[:-3] for entry in os.scandir(_HERE) if entry.name.startswith("WS") and entry.name.endswith(".md"))


def _read_doc(rule_id: str) -> str:
    with open(os.path.join(_HERE, f"{rule_id}.md"), encoding="utf-8") as stream:
        return stream.read()
