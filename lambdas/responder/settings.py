"""Settings from environment variables, validated once at cold start.

Each variable is parsed by one small function; a bad value raises ``SettingsError``
naming the variable, so a misconfigured stack fails loudly instead of mis-sending.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from responder.i18n import LANGUAGES

CHANNELS: Final = ("sns", "ses")
# The severity bands, most severe first: the one place their names and order are decided.
BANDS: Final = ("Critical", "High", "Medium", "Low")
BAND_RANK: Final = {band: len(BANDS) - index for index, band in enumerate(BANDS)}  # Low 1 ... Critical 4
MAX_SES_RECIPIENTS: Final = 50  # SES limit per message (To+Cc+Bcc)
MIN_DIGEST_MINUTES: Final = 5
DEFAULT_ZONES: Final = {"ja": "Asia/Tokyo"}  # the time zone each language's readers expect

_TOPIC_ARN = re.compile(r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
# Deliberately narrow: no display names, no quotes, no whitespace, no header tricks.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
_CONFIG_SET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9_+-]{1,30}){0,2}$")
_QUEUE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/\d{12}/[A-Za-z0-9_-]{1,80}$")
_TYPE_GLOB = re.compile(r"^[A-Za-z0-9:/._!&*?-]{1,120}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_TAG = re.compile(r"^(?P<key>[^=,\r\n]{1,128})=(?P<value>[^,\r\n]{0,256})$")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Bands:
    """Lower bounds of the Medium, High and Critical bands (AWS's current defaults)."""

    medium: float = 4.0
    high: float = 7.0
    critical: float = 9.0


@dataclass(frozen=True)
class Settings:
    bands: Bands = field(default_factory=Bands)
    threshold: float = 4.0
    channels: tuple[str, ...] = ()
    topic_arn: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    configuration_set: str | None = None
    include_samples: bool = True
    language: str = "en"
    suppress_types: tuple[str, ...] = ()  # glob patterns, e.g. "Recon:EC2/PortProbe*"
    suppress_accounts: tuple[str, ...] = ()
    suppress_tag: tuple[str, str] | None = None  # (key, value)
    state_table: str | None = None  # DynamoDB table: per-finding state and idempotency records
    renotify_hours: float = 24.0  # hours before an unchanged finding is emailed again; 0 = never
    immediate_band: str = "High"  # this band and above are emailed within about a minute
    immediate_queue: str | None = None  # SQS queue of findings to email at once (grouped per minute)
    digest_queue: str | None = None  # SQS queue of findings for the periodic digest
    digest_minutes: int = 60  # the digest window (the schedule of the digest)
    time_zone: str | None = None  # IANA zone shown next to UTC in emails; None: the language's default
    ses_max_rate: float = 1.0  # the account's SES maximum send rate (messages/s; sandbox: 1)

    @property
    def display_zone(self) -> str | None:
        """The zone shown next to UTC: the setting, else the language's readers' (ja: JST)."""
        return self.time_zone or DEFAULT_ZONES.get(self.language)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, for_delivery: bool = True) -> Settings:
        """Read and validate the settings.

        Parameters
        ----------
        env
            The environment (``os.environ`` when omitted).
        for_delivery
            When true (the Lambda), the variables each active channel needs are required;
            the preview tool passes false because it sends nothing.
        """
        env = os.environ if env is None else env
        bands = Bands(
            medium=_score(env, "BAND_MEDIUM_MIN", 4.0),
            high=_score(env, "BAND_HIGH_MIN", 7.0),
            critical=_score(env, "BAND_CRITICAL_MIN", 9.0),
        )
        if not bands.medium < bands.high < bands.critical:
            raise SettingsError(
                "BAND_HIGH_MIN",
                "band boundaries must increase: BAND_MEDIUM_MIN < BAND_HIGH_MIN < BAND_CRITICAL_MIN",
            )
        channels = _channels(env)
        settings = cls(
            bands=bands,
            threshold=_score(env, "NOTIFY_THRESHOLD", 4.0),
            channels=channels,
            topic_arn=_optional(env, "TOPIC_ARN", _TOPIC_ARN, "an SNS topic ARN"),
            sender=_optional(env, "SES_SENDER", _EMAIL, "a plain email address"),
            recipients=_recipients(env),
            configuration_set=_optional(env, "SES_CONFIGURATION_SET", _CONFIG_SET, "an SES configuration set name"),
            include_samples=_flag(env, "INCLUDE_SAMPLES", True),
            language=_choice(env, "LANGUAGE", LANGUAGES, "en"),
            suppress_types=_list(env, "SUPPRESS_FINDING_TYPES", _TYPE_GLOB, "a finding-type pattern"),
            suppress_accounts=_list(env, "SUPPRESS_ACCOUNTS", _ACCOUNT, "a 12-digit account id"),
            suppress_tag=_tag(env, "SUPPRESS_TAG"),
            state_table=_optional(env, "STATE_TABLE", _TABLE, "a DynamoDB table name"),
            renotify_hours=_hours(env, "RENOTIFY_HOURS", 24.0),
            immediate_band=_choice(env, "IMMEDIATE_BAND", BANDS, "High"),
            immediate_queue=_optional(env, "IMMEDIATE_QUEUE_URL", _QUEUE_URL, "an SQS queue URL"),
            digest_queue=_optional(env, "DIGEST_QUEUE_URL", _QUEUE_URL, "an SQS queue URL"),
            digest_minutes=int(_number(env, "DIGEST_MINUTES", 60, 1440, "5 and 1440 minutes")),
            time_zone=_zone(env, "DISPLAY_TIMEZONE"),
            ses_max_rate=_rate(env, "SES_MAX_SEND_RATE"),
        )
        if settings.digest_minutes < MIN_DIGEST_MINUTES:
            raise SettingsError("DIGEST_MINUTES", "must be between 5 and 1440 minutes")
        if for_delivery:
            settings._require_channel_settings()
        return settings

    def _require_channel_settings(self) -> None:
        if not self.channels:
            raise SettingsError("CHANNELS", "set at least one of: sns, ses")
        if "sns" in self.channels and not self.topic_arn:
            raise SettingsError("TOPIC_ARN", "required when CHANNELS includes sns")
        if "ses" in self.channels:
            if not self.sender:
                raise SettingsError("SES_SENDER", "required when CHANNELS includes ses")
            if not self.recipients:
                raise SettingsError("SES_RECIPIENTS", "required when CHANNELS includes ses")
        if not self.immediate_queue:
            raise SettingsError("IMMEDIATE_QUEUE_URL", "required: the queue of findings to email at once")
        if not self.digest_queue:
            raise SettingsError("DIGEST_QUEUE_URL", "required: the queue of findings for the digest")


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, high: float, range_text: str) -> float:
    """A finite number from 0 to ``high``; the error names the variable and the range."""
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"not a number: {raw[:40]!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= high:
        raise SettingsError(name, f"must be between {range_text}")
    return value


def _score(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, 10.0, "0 and 10")


def _hours(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, 8760.0, "0 (never) and 8760 hours")


def _channels(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _raw(env, "CHANNELS")
    if raw is None:
        return ()
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise SettingsError("CHANNELS", f"unknown channel {unknown[0][:20]!r}; use sns, ses or sns,ses")
    return names


def _optional(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    raw = _raw(env, name)
    if raw is not None and not pattern.fullmatch(raw):
        raise SettingsError(name, f"not {what}")
    return raw


def _recipients(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _raw(env, "SES_RECIPIENTS")
    if raw is None:
        return ()
    addresses = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    for address in addresses:
        if not _EMAIL.fullmatch(address):
            raise SettingsError("SES_RECIPIENTS", f"not a plain email address: {address[:80]!r}")
    return addresses


def _list(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    raw = _raw(env, name)
    if raw is None:
        return ()
    items = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    for item in items:
        if not pattern.fullmatch(item):
            raise SettingsError(name, f"not {what}: {item[:80]!r}")
    return items


def _tag(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    raw = _raw(env, name)
    if raw is None:
        return None
    match = _TAG.fullmatch(raw)
    if not match:
        raise SettingsError(name, "must be key=value")
    return match["key"].strip(), match["value"].strip()


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(name, "must be true or false")


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw not in allowed:
        raise SettingsError(name, f"must be one of: {', '.join(allowed)}")
    return raw


def _zone(env: Mapping[str, str], name: str) -> str | None:
    raw = _raw(env, name)
    if raw is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        if not _ZONE.fullmatch(raw):
            raise ValueError(raw)
        ZoneInfo(raw)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsError(name, "not an IANA time zone such as Asia/Tokyo or UTC") from None
    return raw


def _rate(env: Mapping[str, str], name: str) -> float:
    rate = _number(env, name, 1.0, 10_000.0, "1 and 10000 messages per second")
    if rate < 1.0:
        raise SettingsError(name, "must be between 1 and 10000 messages per second")
    return rate
