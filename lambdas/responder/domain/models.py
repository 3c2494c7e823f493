"""Typed models of the GuardDuty EventBridge event and of the finding it carries.

GuardDuty adds finding families every year and public samples are often trimmed, so
the models are strict only on what the product cannot work without (``id``, ``type``,
``severity``, ``accountId``, ``region``). Every other field is optional, extra fields
are ignored, and an optional field whose value has an unexpected shape is dropped
(``Lenient``) rather than failing the whole alert.

Annotations are evaluated when each class is defined (no ``from __future__ import
annotations``): pydantic would otherwise evaluate each of the ~250 field annotations from its
string, a sixth of what building these models costs at cold start.
"""

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, field_validator

from responder.domain.model_base import Lenient, Model
from responder.domain.resource_models import Resource
from responder.domain.service_models import Service

# --- finding and event -------------------------------------------------------


class Finding(Model):
    """One GuardDuty finding (the ``detail`` of a ``GuardDuty Finding`` event)."""

    id: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=300)
    severity: StrictFloat  # a JSON number: ``true`` is not read as 1.0, nor "8" as 8.0
    account_id: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=64)
    partition: Lenient[str] = None
    arn: Lenient[str] = None
    title: Lenient[str] = None
    description: Lenient[str] = None
    created_at: Lenient[str] = None
    updated_at: Lenient[str] = None
    resource: Lenient[Resource] = None
    service: Lenient[Service] = None

    @field_validator("severity")
    @classmethod
    def _severity_in_range(cls, value: float) -> float:
        if not math.isfinite(value) or not 0.0 <= value <= 10.0:
            raise ValueError("severity must be a number from 0 to 10")
        return value


class GuardDutyEvent(BaseModel):
    """The EventBridge envelope with a typed GuardDuty finding as ``detail``.

    Powertools' ``EventBridgeModel`` with its fields in the same order, written here: only
    source, detail-type and the finding matter, the rest of the envelope is optional (samples
    carry redacted or non-ISO times; emulators omit fields), deliberately looser than that
    model. Importing it would load Powertools' parser utility (about 10 ms at cold start) for a
    base class whose fields are nearly all overridden.
    """

    model_config = ConfigDict(populate_by_name=True)

    version: Lenient[str] = None
    id: Lenient[str] = None
    source: str
    account: Lenient[str] = None
    time: Any = None
    region: Lenient[str] = None
    resources: Lenient[list[str]] = None
    detail_type: str = Field(alias="detail-type")
    detail: Finding
    replay_name: str | None = Field(None, alias="replay-name")
