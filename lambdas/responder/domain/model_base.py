"""The base of the finding models: camelCase aliases, extra fields ignored, and ``Lenient``
optional fields that degrade to None on a bad shape rather than failing the whole alert.

Annotations are evaluated when each class is defined (no ``from __future__ import
annotations``) in every model module: pydantic would otherwise evaluate each field
annotation from its string, a sixth of what building these models costs at cold start.
Building the ~100 classes is most of what importing a function costs beyond boto3, so the
helpers here are cheap to call ~480 times: ``Lenient[X]`` is looked up, not substituted
(typing's generic substitution, whose cache is shared and evicted, cost about 2 % of a cold
start), and ``camel`` gives the aliases ``to_camel`` would, without its three regexes.
"""

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler
from pydantic_core import core_schema

T = TypeVar("T")


class NoneOnError:
    """Keep a malformed optional value from sinking the alert: it becomes ``None``.

    Done in pydantic-core (``on_error="default"``), so leniency costs no Python call.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


_NONE_ON_ERROR: Final = NoneOnError()
_LENIENT: dict[Any, Any] = {}  # Lenient[X] for each X, made once

if TYPE_CHECKING:
    # An optional field that degrades to None instead of raising on a bad shape.
    Lenient = Annotated[T | None, NoneOnError()]
else:

    class Lenient:
        """``Lenient[X]`` is ``Annotated[X | None, NoneOnError()]``, made once per ``X``."""

        def __class_getitem__(cls, item: Any) -> Any:
            made = _LENIENT.get(item)
            if made is None:
                made = _LENIENT[item] = Annotated[item | None, _NONE_ON_ERROR]
            return made


_LAST_SECOND: Final = 253_402_300_799  # 9999-12-31T23:59:59Z: the last instant an ISO string can say


def _iso_instant(value: Any) -> Any:
    """Epoch seconds (GuardDuty writes some timestamps as JSON numbers) as an ISO string."""
    if type(value) is float or type(value) is int:
        if not math.isfinite(value) or not 0 <= value <= _LAST_SECOND:
            raise ValueError("not an epoch time")
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


# A timestamp published either as an ISO string or as epoch seconds; always an ISO string here.
Instant = Annotated[str, BeforeValidator(_iso_instant)]


def camel(name: str) -> str:
    """A field's JSON name: ``ip_address_v4`` -> ``ipAddressV4`` (as ``to_camel`` gives it; a test
    checks every field)."""
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )
