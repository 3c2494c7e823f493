"""Both entry points in one module, for the callers that load them together (the demo, tests).

The deployed functions use ``responder.triage_handler`` and ``responder.notify_handler``. Importing
this module (or reloading it) reads both functions' settings afresh from the environment, as two
cold starts would.
"""

from __future__ import annotations

import importlib

from responder import notify_handler as _notify
from responder import triage_handler as _triage

_triage = importlib.reload(_triage)
_notify = importlib.reload(_notify)

SETTINGS = _triage.SETTINGS
lambda_handler = _triage.lambda_handler
notify_handler = _notify.lambda_handler
