"""Structural limits: deep nesting is measured without recursion."""

from __future__ import annotations

from responder.domain.limits import MAX_DEPTH, nesting_depth, too_deep


def _nested(levels: int) -> object:
    value: object = "leaf"
    for level in range(levels):
        value = {"a": value} if level % 2 else [value]
    return value


def test_depth_counts_objects_and_lists() -> None:
    # Given scalars, flat and nested containers / Then their depth is the container levels
    assert nesting_depth("x") == 0
    assert nesting_depth({}) == 1
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3


def test_a_real_finding_shape_is_not_too_deep() -> None:
    assert not too_deep(_nested(MAX_DEPTH))
    assert too_deep(_nested(MAX_DEPTH + 1))


def test_thousands_of_levels_are_measured_without_recursion_error() -> None:
    # Given nesting far beyond Python's recursion limit / Then it is refused, not a RecursionError
    assert too_deep(_nested(5_000))
    assert nesting_depth(_nested(5_000), stop_after=10) == 11
