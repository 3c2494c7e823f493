"""Powertools Logger, Tracer and Metrics, created once for the whole package."""

from __future__ import annotations

from typing import Final

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE: Final = "guardduty-responder"
NAMESPACE: Final = "GuardDutyResponder"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
