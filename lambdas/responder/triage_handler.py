"""Lambda entry point of the triage function (EventBridge rule on GuardDuty findings).

Its settings are read and validated at cold start; it loads no templates and no channels.
Its AWS clients (queues, state table, Organizations) are created on first use, not here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from responder.adapters.observability import logger, metrics
from responder.app.settings import TriageSettings
from responder.app.triage import Responder

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SETTINGS = TriageSettings.from_env(os.environ)
RESPONDER = Responder.from_settings(SETTINGS)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Decide on one event and queue the finding to be emailed, or not."""
    return RESPONDER.handle(event, context).as_dict()
