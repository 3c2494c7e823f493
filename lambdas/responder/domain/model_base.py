"""The base of the finding models: camelCase aliases, extra fields ignored, and ``Lenient``
optional fields that degrade to None on a bad shape rather than failing the whole alert.

Annotations are evaluated when each class is defined (no ``from __future__ import
annotations``) in every model module: pydantic would otherwise evaluate each field
annotation from its string, a sixth of what building these models costs at cold start.
"""

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

T = TypeVar("T")


class NoneOnError:
    """Keep a malformed optional value from sinking the alert: it becomes ``None``.

    Done in pydantic-core (``on_error="default"``), so leniency costs no Python call.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


# An optional field that degrades to None instead of raising on a bad shape.
Lenient = Annotated[T | None, NoneOnError()]


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )
