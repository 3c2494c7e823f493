"""Settings: each function's environment as a typed model, validated once at cold start.

pydantic (already shipped for the event models) parses the environment: each field names its
variable (its alias) and its constraints, so there is no parser of our own. A bad value raises
``SettingsError`` naming the variable, so a misconfigured stack fails loudly instead of
mis-sending.

- ``Settings``: the decisions and presentation every reader shares (classification, bands,
  suppression, language and time zone); the preview tool reads only these.
- Each function's own model (``responder.app.settings``) adds its queues, table and channels.

A well-formed time zone the time zone database lacks (``Asia/Atlantis``) is the one value that
passes the stack's pattern and cannot be checked there: it is accepted and emails show UTC only;
the functions log it and count it (``DisplayTimeZoneUnknown``, ``responder.app.settings``) at cold
start, the preview notes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from responder.domain.accounts import ACCOUNT_ID, SAFE_NAME
from responder.domain.i18n import LANGUAGES, Locale

CHANNELS: Final = ("sns", "ses")
MAX_SES_RECIPIENTS: Final = 50  # SES limit per message (To+Cc+Bcc)
MIN_DIGEST_MINUTES: Final = 5
DEFAULT_ZONES: Final = {"ja": "Asia/Tokyo"}  # the time zone each language's readers expect

TOPIC_ARN: Final = r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
# Deliberately narrow: no display names, no quotes, no whitespace, no header tricks.
ROLE_ARN: Final = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
SSM_PARAMETER: Final = r"^/?[A-Za-z0-9_.-]{1,1011}(/[A-Za-z0-9_.-]{1,1011})*$"  # a parameter's name
_EMAIL: Final = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
_ZONE: Final = r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9_+-]{1,30}){0,2}$"
_TAG: Final = re.compile(r"^(?P<key>[^=,\r\n]{1,128})=(?P<value>[^,\r\n]{0,256})$")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Band(StrEnum):
    """The severity bands, most severe first: the one place their names and order are decided.

    The values are the words logs, metric dimensions, queue messages, the state table and the
    stack's ``ImmediateBand`` parameter use.
    """

    CRITICAL = "Critical"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"

    @property
    def rank(self) -> int:
        """Low 1 ... Critical 4: the order in which bands compare."""
        return _BAND_RANK[self]


_BAND_RANK: Final = {band: len(Band) - index for index, band in enumerate(Band)}


@dataclass(frozen=True)
class Bands:
    """Lower bounds of the Medium, High and Critical bands (``Settings.bands``; the defaults are the
    stack parameters' own, declared once in infra/parameters.py and tied to these settings by a test)."""

    medium: float
    high: float
    critical: float


@dataclass(frozen=True)
class RunbookSettings:
    """What the Respond section needs to know of the deployment (``Settings.runbooks``): the
    notifier reads it from its environment; the preview and the triage keep these defaults
    (local commands, no "run it in account ..." note: the responder's account is unknown)."""

    approvals: bool = False  # RunbookApprovers set: containment waits for an approval (never across accounts)
    execution_role: str | None = None  # member accounts' execution role name (MemberExecutionRoleName)
    responder_account: str | None = None  # the stack's own account; None: unknown
    responder_region: str | None = None  # the notifier's Region (AWS_REGION), where target-location runs start
    enabled: bool = True  # the stack deploys the runbooks


def comma_list(value: Any) -> Any:
    """``"a, b,a"`` -> ``("a", "b")``: the environment's lists; other values pass as given."""
    if isinstance(value, str):
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    return value


def lower_list(value: Any) -> Any:
    value = comma_list(value)
    return tuple(str(item).lower() for item in value) if isinstance(value, tuple) else value


def _key_value(value: Any) -> Any:
    """``"key=value"`` -> ``("key", "value")`` (both stripped); other values pass as given."""
    if not isinstance(value, str):
        return value
    match = _TAG.fullmatch(value)
    if not match:
        raise ValueError("must be key=value")
    return match["key"].strip(), match["value"].strip()


def _account_names(value: Any) -> Any:
    """``"111122223333=payments-prod,444455556666=sandbox"`` -> {id: name}; other values pass as given.

    Names are what an Organizations account name may be (printable ASCII, at most 50 characters;
    no comma, the list's separator). An id given twice keeps its last name, as a mapping literal
    would: CloudFormation cannot see a repeated list item, and refusing it here would stop both
    functions at every cold start for a naming slip.
    """
    if not isinstance(value, str):
        return value
    names: dict[str, str] = {}
    for position, part in enumerate((part.strip() for part in value.split(",")), start=1):
        if not part:
            continue
        account_id, _, name = part.partition("=")
        account_id, name = account_id.strip(), name.strip()
        if not ACCOUNT_ID.fullmatch(account_id) or not SAFE_NAME.fullmatch(name):
            raise ValueError(f"entry {position} must be a 12-digit account id=name (printable ASCII, 1-50 characters)")
        names[account_id] = name
    return names


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return value

    return check


def pattern(pattern: str) -> StringConstraints:
    return StringConstraints(pattern=pattern)


Score = Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]
Email = Annotated[str, pattern(_EMAIL)]
QueueUrl = Annotated[str, pattern(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[0-9]{12}/[A-Za-z0-9_-]{1,80}$")]
TableName = Annotated[str, pattern(r"^[A-Za-z0-9_.-]{3,255}$")]
TypeGlob = Annotated[str, pattern(r"^[A-Za-z0-9:/._!&*?-]{1,120}$")]
Account = Annotated[str, pattern(r"^[0-9]{12}$")]


class Settings(BaseModel):
    """What classification, decisions and emails need: both functions and the preview."""

    # defer_build: each function builds only its own model's validator, at its first validation.
    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True, defer_build=True
    )

    band_medium: Score = Field(4.0, alias="BAND_MEDIUM_MIN")
    band_high: Score = Field(7.0, alias="BAND_HIGH_MIN")
    band_critical: Score = Field(9.0, alias="BAND_CRITICAL_MIN")
    threshold: Score = Field(4.0, alias="NOTIFY_THRESHOLD")
    include_samples: bool = Field(True, alias="INCLUDE_SAMPLES")
    language: Annotated[str, AfterValidator(_one_of(LANGUAGES))] = Field("en", alias="LANGUAGE")
    # glob patterns, e.g. "Recon:EC2/PortProbe*"
    suppress_types: Annotated[tuple[TypeGlob, ...], BeforeValidator(comma_list)] = Field(
        (), alias="SUPPRESS_FINDING_TYPES"
    )
    suppress_accounts: Annotated[tuple[Account, ...], BeforeValidator(comma_list)] = Field(
        (), alias="SUPPRESS_ACCOUNTS"
    )
    suppress_tag: Annotated[tuple[str, str] | None, BeforeValidator(_key_value)] = Field(None, alias="SUPPRESS_TAG")
    # hours before an unchanged finding is emailed again; 0 = never
    renotify_hours: float = Field(24.0, ge=0.0, le=8760.0, allow_inf_nan=False, alias="RENOTIFY_HOURS")
    # this band and above are emailed within about a minute
    immediate_band: Annotated[Band, BeforeValidator(_one_of(tuple(Band)))] = Field(Band.HIGH, alias="IMMEDIATE_BAND")
    # the digest window (the schedule of the digest), minutes
    # whole minutes: "7.5" and "1e3" are refused, as the stack's parameter refuses them
    digest_minutes: int = Field(60, ge=MIN_DIGEST_MINUTES, le=1440, alias="DIGEST_MINUTES")
    # IANA zone shown next to UTC in emails; None: the language's default
    time_zone: Annotated[str, pattern(_ZONE)] | None = Field(None, alias="DISPLAY_TIMEZONE")
    # account id -> name, for accounts the organisation cannot name (or no Organizations access)
    account_names: Annotated[dict[str, str], BeforeValidator(_account_names)] = Field(
        default_factory=dict, alias="ACCOUNT_NAMES"
    )
    _display_zone: str | None = PrivateAttr(default=None)
    _unknown_zone: str | None = PrivateAttr(default=None)
    _locale: Locale = PrivateAttr(default=Locale())

    @model_validator(mode="after")
    def _resolve(self) -> Self:
        if not self.band_medium < self.band_high < self.band_critical:
            raise SettingsError(
                "BAND_HIGH_MIN",
                "band boundaries must increase: BAND_MEDIUM_MIN < BAND_HIGH_MIN < BAND_CRITICAL_MIN",
            )
        self._display_zone = DEFAULT_ZONES.get(self.language)
        if self.time_zone is not None:
            known = _known_zone(self.time_zone)
            self._display_zone = self.time_zone if known else None
            self._unknown_zone = None if known else self.time_zone
        self._locale = Locale(self.language, self._display_zone)
        return self

    @property
    def runbooks(self) -> RunbookSettings:
        """What the Respond section knows of the deployment (the notifier's settings override it)."""
        return RunbookSettings()

    @property
    def bands(self) -> Bands:
        """The band boundaries, in order."""
        return Bands(self.band_medium, self.band_high, self.band_critical)

    @property
    def display_zone(self) -> str | None:
        """The zone shown next to UTC: the setting, else the language's readers' (ja: JST);
        None (UTC only) when the setting names a zone the time zone database lacks."""
        return self._display_zone

    @property
    def locale(self) -> Locale:
        """The language and the display zone of every email, together."""
        return self._locale

    @property
    def unknown_zone(self) -> str | None:
        """The configured DISPLAY_TIMEZONE when the time zone database lacks it (emails show UTC only)."""
        return self._unknown_zone

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """Read and validate this model's variables from ``env`` (the entry modules pass
        the process environment: the domain reads no process state itself).

        An empty variable counts as unset; variables of other models are ignored.

        Raises
        ------
        SettingsError
            Naming the first variable that is missing or invalid.
        """
        names = {field.alias or name for name, field in cls.model_fields.items()}
        values = {name: value.strip() for name in names if (value := env.get(name, "")).strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise _settings_error(error) from None


def _known_zone(name: str) -> bool:
    """Whether the time zone database has ``name``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


def _settings_error(error: ValidationError) -> SettingsError:
    """The first problem, naming its variable, without echoing the value."""
    first = error.errors(include_input=False, include_url=False)[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, SettingsError):
        return cause
    variable = next((part for part in first["loc"] if isinstance(part, str)), "settings")
    problem = first["msg"].removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch":
        problem = "not a valid value (see the README's Configuration)"
    return SettingsError(variable, problem)
