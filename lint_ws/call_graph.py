"""The one call graph both language models build over their functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class _Calling(Protocol):
    calls: set[str]  # last name component of every function or method it calls


F = TypeVar("F", bound=_Calling)


def callers_by_name(functions: Iterable[F]) -> dict[str, list[F]]:
    """Function name -> the functions that call a function of that name."""
    callers: dict[str, list[F]] = {}
    for function in functions:
        for name in function.calls:
            callers.setdefault(name, []).append(function)
    return callers
