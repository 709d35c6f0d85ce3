"""Whole-file answers, computed once per file and kept by the language models."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class PerFileAnswers:
    """A file's model keeps the answer to each whole-file question (the structs of the file,
    the call sites of a name...): rules ask such a question for each of their candidates,
    and computing it afresh each time made large files quadratic."""

    def per_file(self, key: Hashable, compute: Callable[[Any], Any]) -> Any:
        """``compute(self)``, computed the first time ``key`` is asked for this file."""
        answers = self.__dict__.setdefault("_per_file_answers", {})
        if key not in answers:
            answers[key] = compute(self)
        return answers[key]
