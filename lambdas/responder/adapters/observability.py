"""Powertools Logger and Metrics, created once for the whole package, and the counts both functions emit.

No Powertools Tracer: the stack's active tracing already gives each invocation its function
segment (initialisation, invocation, overhead) from the Lambda service itself, with no SDK in
the function. What a Tracer would add, subsegments around the handler and each AWS call, needs
the X-Ray SDK, and importing that SDK (which ``Tracer(disabled=True)`` does too) costs more than
importing boto3 on every cold start. The functions' logs and metrics already say which step
failed and how long a send retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from responder.domain.accounts import ACCOUNT_ID, label, valid_name

if TYPE_CHECKING:
    from pydantic import ValidationError

    from responder.domain.assessment import Triage

SERVICE: Final = "guardduty-responder"
NAMESPACE: Final = "GuardDutyResponder"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def emit(name: str, **dimensions: str) -> None:
    """One count with exactly these dimensions and ``service`` (an EMF line of its own, at once).

    ``service`` is set here, not taken from POWERTOOLS_SERVICE_NAME, so an alarm on these
    dimensions matches wherever the function runs.
    """
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def count(c: Triage, name: str, **extra: str) -> None:
    """``name``, and ``<name>ByClass`` by band, threat purpose and ``extra`` dimensions."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    # Bounded dimensions: band (4 values) and known ThreatPurposes (or "Other").
    dimensions = {"Band": c.band, "ThreatPurpose": c.purpose_key or "Other"}
    emit(f"{name}ByClass", **dimensions, **{key.capitalize(): value for key, value in extra.items()})


def log_fields_of(c: Triage) -> dict[str, Any]:
    """What a log line says about a finding: validated identifiers and numbers only.

    The account as ``name (id)`` (``account``) when it has a name, so every line about a finding
    names it; an ``accountId`` that is no account id is not logged."""
    account_id = c.account_id if ACCOUNT_ID.fullmatch(c.account_id) else None
    return {
        "finding_id": c.finding_id[:300],
        "finding_type": c.safe_type or "unrecognised",
        "severity": c.severity,
        "band": c.band,
        "threat_purpose": c.purpose_key or "Unknown",
        "action_type": c.action_type if c.action_type and c.action_type.isidentifier() else None,
        "sample": c.is_sample,
        "count": c.count,
        "account_id": account_id,
        "account": label(account_id, valid_name(c.account_name)) if account_id else None,
    }


def validation_summary(error: ValidationError) -> str:
    """Where the event is wrong, without echoing any of its values."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    ]
    return "; ".join(problems[:5])
