"""The base of the finding models: camelCase aliases, extra fields ignored, and ``Lenient``
optional fields that degrade to None on a bad shape rather than failing the whole alert.
``Model`` is a pydantic model; ``Block``, a block whose fields are all ``Lenient``, is validated
by pydantic-core from the same core schema without being a ``BaseModel`` (92 of the 100
blocks): pydantic's work per class, not validation, was most of a cold start beyond boto3.

Annotations are evaluated when each class is defined (no ``from __future__ import
annotations``) in every model module: pydantic would otherwise evaluate each field
annotation from its string, a sixth of what building these models costs at cold start.
Building the ~100 classes is most of what importing a function costs beyond boto3, so the
helpers here are cheap to call ~480 times: ``Lenient[X]`` is looked up, not substituted
(typing's generic substitution, whose cache is shared and evicted, cost about 2 % of a cold
start), and ``camel`` gives the aliases ``to_camel`` would, without its three regexes.
"""

import inspect
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, TypeVar, get_args

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


_SCALARS: Final[dict[Any, Any]] = {
    str: core_schema.str_schema,
    int: core_schema.int_schema,
    bool: core_schema.bool_schema,
    float: core_schema.float_schema,
}


class Block:
    """A block of the finding whose fields are all ``Lenient`` (``= None``): read like a ``Model``
    (attributes, frozen, equal when its values are), validated by pydantic-core from the same core
    schema pydantic would generate for it (a test compares them), but declared without
    ``BaseModel``'s class machinery, which costs about 0.25 ms per class at cold start.

    It is only ever made by validating the finding (there is no constructor): a block the code
    makes itself (``Service()``, ``Action()``, ``Resource()``) stays a ``Model``.
    """

    # pydantic-core sets these on each instance it validates, the values in ``__dict__``.
    __slots__ = ("__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__")
    _fields: ClassVar[tuple[tuple[str, str, Any], ...]] = ()  # (name, JSON name, type without None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = []
        for name, annotation in inspect.get_annotations(cls).items():
            marks = list(getattr(annotation, "__metadata__", ()))
            kind, *none = get_args(getattr(annotation, "__origin__", annotation))  # Lenient[X] is X | None
            if marks != [_NONE_ON_ERROR] or none != [type(None)] or cls.__dict__.get(name, ...) is not None:
                raise TypeError(f"{cls.__qualname__}.{name}: a Block has only Lenient[...] = None fields")
            fields.append((name, camel(name), kind))
            delattr(cls, name)  # read from the instance's __dict__, as a model's field is
        cls._fields = tuple(fields)

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__qualname__} is made by validating a finding, not directly")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        fields = {}
        for name, alias, kind in cls._fields:
            scalar = _SCALARS.get(kind)
            inner = scalar() if scalar else handler.generate_schema(kind)
            nullable = core_schema.nullable_schema(inner)
            lenient = core_schema.with_default_schema(nullable, default=None, on_error="default")
            fields[name] = core_schema.model_field(
                core_schema.with_default_schema(lenient, default=None),
                validation_alias=alias,
                serialization_alias=alias,
                metadata={},
            )
        return core_schema.model_schema(
            cls,
            core_schema.model_fields_schema(fields, model_name=cls.__name__, computed_fields=[]),
            custom_init=False,
            root_model=False,
            # Model's configuration (the test comparing each block with its Model checks it)
            config=core_schema.CoreConfig(
                title=cls.__name__, extra_fields_behavior="ignore", validate_by_alias=True, validate_by_name=True
            ),
            ref=f"{cls.__module__}.{cls.__qualname__}:{id(cls)}",
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__qualname__} is frozen")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__qualname__}({values})"
