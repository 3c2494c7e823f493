"""The CDK side of GuardDuty Responder: the deployable stack, and the responder as one construct.

``from infra import GuardDutyResponder`` puts the responder into your own stack (README, "Use it
inside your own CDK app").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.responder import GuardDutyResponder

__all__ = ["GuardDutyResponder"]


def __getattr__(name: str) -> object:
    # Imported on first use: tools that read only the parameter table or resolve a template
    # (the tests, the demo, the benchmark) do not load the CDK.
    if name == "GuardDutyResponder":
        from infra.responder import GuardDutyResponder  # noqa: PLC0415

        return GuardDutyResponder
    raise AttributeError(f"module 'infra' has no attribute {name!r}")
