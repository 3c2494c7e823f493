"""Lambda entry point: observability, then the responder. Settings are validated at cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from responder.observability import logger, metrics, tracer
from responder.service import Responder
from responder.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SETTINGS = Settings.from_env()
RESPONDER = Responder.from_settings(SETTINGS)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RESPONDER.handle(event, context).as_dict()
