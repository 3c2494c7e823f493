"""Adapter: the routes file, read from its SSM parameter and cached for ``ROUTES_CACHE_SECONDS``.

A routes file that cannot be used (invalid, unreadable, missing, throttled) never drops an
alert: routing falls back to the default recipients only (an ``exclusive`` route is ignored
too), ``routes file unusable`` is logged with where the file is wrong (never a value) and
``RoutesFallback`` (alarmed) is counted. The fallback is cached like a good file, so a broken
file costs one read and one count per cache period, not one per batch.

A route that can never deliver with the channels in use (only ``ses`` without the SES channel,
only ``sns`` without the SNS channel or the route topic) is logged once per load
(``route can never deliver``, naming the route, never an address): the security team still gets
its findings, but its owner gets nothing until the channel is set up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from responder.adapters.aws import make_client
from responder.adapters.observability import emit, logger
from responder.domain.owners import DEFAULT_ONLY, Routes, RoutesError, parse_routes, undeliverable

ROUTES_CACHE_SECONDS: Final = 60  # seconds an operator's edit takes to apply, at most
FALLBACK_METRIC: Final = "RoutesFallback"  # the stack's alarm watches this name


class RouteSource:
    """The routes file of ``parameter_name`` (None: no routes, everything to the default recipients)."""

    def __init__(
        self,
        parameter_name: str | None,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parameter_name = parameter_name
        self._client = client
        self.clock = clock
        self._cached: tuple[float, Routes] | None = None

    def current(self, *, ses: bool = True, sns: bool = True) -> Routes:
        """The routes in force: read at most once per ``ROUTES_CACHE_SECONDS``; never raises.

        ``ses`` / ``sns``: whether routed copies can go out on that channel; a route that can
        send on neither is logged when the file is read.
        """
        if self.parameter_name is None:
            return DEFAULT_ONLY
        now = self.clock()
        if self._cached is not None and now - self._cached[0] < ROUTES_CACHE_SECONDS:
            return self._cached[1]
        routes = self._read()
        self._cached = (now, routes)
        for name in undeliverable(routes, ses=ses, sns=sns):
            # Silent otherwise: the owner would wait for findings that never come.
            logger.warning(
                "route can never deliver: its channel is not in use",
                extra={"parameter": self.parameter_name, "route": name, "ses": ses, "sns": sns},
            )
        return routes

    def _read(self) -> Routes:
        try:
            if self._client is None:
                self._client = make_client("ssm")
            response = self._client.get_parameter(Name=self.parameter_name)
            return parse_routes(str(response["Parameter"]["Value"]))
        except RoutesError as error:
            reason = str(error)  # a location and a fixed problem, never a value of the file
        except Exception as error:  # noqa: BLE001 (AccessDenied, throttling, a missing parameter: fall back)
            reason = _code(error)
        logger.error(
            "routes file unusable: everything goes to the default recipients",
            extra={"parameter": self.parameter_name, "reason": reason},
        )
        emit(FALLBACK_METRIC)
        return DEFAULT_ONLY


def _code(error: Exception) -> str:
    """The AWS error code (``AccessDeniedException``, ``ParameterNotFound``...) or the exception's type."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code.isidentifier():
            return code[:100]
    return type(error).__name__
