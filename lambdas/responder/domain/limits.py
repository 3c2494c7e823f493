"""Pure: structural limits on attacker-influenced JSON, checked before anything walks it.

GuardDuty findings nest about a dozen levels deep. A document nested hundreds of levels
deep is not a finding; walking it recursively (pydantic, ``json``, our own helpers) would
raise ``RecursionError`` far from the input, so it is refused up front with one clear line.
"""

from __future__ import annotations

from typing import Any, Final

MAX_DEPTH: Final = 64  # levels of objects and lists; real findings use about 12


def nesting_depth(value: Any, *, stop_after: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests objects and lists (a scalar is 0), iteratively.

    Counting stops once ``stop_after`` is exceeded, so a hostile document costs no more
    than that many levels of work per branch.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > stop_after:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests objects and lists more than ``limit`` levels deep."""
    return nesting_depth(value, stop_after=limit) > limit
