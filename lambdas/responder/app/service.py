"""The preview's contract: one finding classified, decided and rendered as its email alone.

``prepare`` renders through ``degrade.compose``, as the notifier does, so the preview tool and
the demo show exactly what would be sent. The triage use case lives in ``responder.app.triage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from responder.domain.accounts import Account
from responder.domain.classify import Classification, classify, decide
from responder.domain.degrade import compose
from responder.domain.models import Finding
from responder.domain.render import Email
from responder.domain.settings import Settings


@dataclass(frozen=True)
class Prepared:
    """Everything decided about one finding before anything is sent."""

    classification: Classification
    notify: bool
    reason: str
    detail: str | None
    email: Email
    degraded: str | None = None  # the email shows the minimal form: why (the type of the rendering error)


class UnrenderableError(ValueError):
    """Not even the minimal form of the finding could be rendered (the notifier retries such a finding)."""


def prepare(finding: Finding, settings: Settings, account: Account | None = None) -> Prepared:
    """Pure: classify, decide and render one finding as its email alone (the preview tool's contract too).

    ``account``: what the organisation says of the finding's account (its name), as the notifier
    has it from the queue message; without it, the ``AccountNames`` mapping or the id alone.

    Rendered through ``degrade.compose``, as the notifier renders it: a finding whose details
    cannot be shown gets its minimal form (``degraded`` says so).

    Raises
    ------
    UnrenderableError
        When even the minimal form cannot be rendered.
    """
    classification = classify(finding, settings, account)
    decision = decide(classification.triage, settings)
    composed = compose(
        [classification],
        lambda c: (c, None),
        kind="ALERTS",
        lone_in_full=True,
        locale=settings.locale,
        minutes=settings.digest_minutes,
    )
    if composed.lost:
        raise UnrenderableError(f"cannot be rendered, not even without its details ({composed.lost[0].error})")
    [([shown], email)] = composed.emails
    return Prepared(classification, decision.notify, decision.reason, decision.detail, email, shown.error)
