"""Lambda entry point of the notifier function (immediate queue batches, digest schedule).

Its settings are read and validated at cold start: each chosen channel with what it needs. The
routes file (``ROUTES_PARAMETER``) is read on the first batch and then at most once a minute; a
file that cannot be used never stops the function (everything goes to the default recipients).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from responder.adapters.observability import logger, metrics
from responder.app.notifier import Notifier
from responder.app.settings import NotifierSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SETTINGS = NotifierSettings.from_env(os.environ)
NOTIFIER = Notifier.from_settings(SETTINGS)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Email a batch of the immediate queue, or the digest on its schedule."""
    return NOTIFIER.handle(event, context)
