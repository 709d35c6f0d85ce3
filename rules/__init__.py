"""The rule catalogue: one Markdown file per rule, TOML front matter for its metadata.

Installed as the ``lint_ws.catalogue`` package so the docs ship in the wheel; used by
``lint-ws rule``, the reporters (SARIF rule help) and the rule registry (levels).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FRONT_MATTER = "+++"


@dataclass(frozen=True)
class RuleDoc:
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


def _parse(text: str) -> RuleDoc:
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
    docs = [
        _parse(entry.read_text(encoding="utf-8"))
        for entry in resources.files(__name__).iterdir()
        if entry.name.startswith("WS") and entry.name.endswith(".md")
    ]
    return {doc.id: doc for doc in sorted(docs, key=lambda doc: doc.id)}
