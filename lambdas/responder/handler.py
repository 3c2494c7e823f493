"""Lambda entry points: observability, then the use case. Settings are validated at cold start.

- ``lambda_handler``: the triage function (EventBridge rule on GuardDuty findings).
- ``notify_handler``: the notifier function (immediate queue batches, digest schedule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from responder.notifier import Notifier
from responder.observability import logger, metrics, tracer
from responder.service import Responder
from responder.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SETTINGS = Settings.from_env()
RESPONDER = Responder.from_settings(SETTINGS)
NOTIFIER = Notifier.from_settings(SETTINGS)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RESPONDER.handle(event, context).as_dict()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def notify_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return NOTIFIER.handle(event, context)
