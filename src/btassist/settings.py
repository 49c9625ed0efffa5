"""Runtime configuration: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from btassist.observability.logs import LogFormat

DEFAULT_DATABASE_URL = "sqlite:///btassist.db"


class Settings(BaseSettings):
    """Everything the service can be told from outside.

    Bot Framework settings keep the attribute names the SDK reads (`APP_ID`, `APP_PASSWORD`,
    `APP_TYPE`, `APP_TENANTID`) so this object can be handed to botbuilder as its configuration;
    they are filled from the conventional `MicrosoftAppId` … variables.
    """

    model_config = SettingsConfigDict(
        env_prefix="BTASSIST_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///path or postgresql://user@host/db; the async driver is chosen here.",
    )
    public_url: str = Field("http://127.0.0.1:3978", description="Base URL users reach.")
    timezone: str = Field("Europe/Stockholm", description="Local time for cards and reminders.")
    allowed_tenants: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="Comma-separated Entra tenant ids; empty allows every tenant."
    )
    send_rate: float = Field(40.0, gt=0, description="Proactive sends per second per tenant.")
    faq_dir: Path | None = Field(
        None, description="An editable copy of the FAQ knowledge base; empty: the shipped one."
    )
    faq_reload_interval: float = Field(
        2.0, ge=0, description="Seconds between checks for changed FAQ files; 0 turns it off."
    )
    policy_dir: Path | None = Field(
        None,
        description="An editable copy of the region policies (assessments, meetings, reminders); "
        "empty: the shipped ones.",
    )
    reminder_sweeps: bool = Field(
        True,
        description="Sweep for due reminders in this process: at 08:30 local time on working "
        "days and once at start. Any number of processes may: each reminder is queued once.",
    )
    clock_start: datetime | None = Field(
        None,
        description="Local mode only (tests, demos): the service's clock starts at this local "
        "time ('YYYY-MM-DD HH:MM') and runs on from there; refused with MicrosoftAppId.",
    )
    outbox_interval: float = Field(
        1.0,
        ge=0,
        description="Seconds between looks for notices queued by other processes (the CLI, "
        "other servers); 0 turns the timer off (this process's own notices still go at once).",
    )
    send_concurrency: int = Field(
        32, ge=1, le=1000, description="Proactive sends in flight at once per process."
    )
    outbox_lease: float = Field(
        60.0,
        gt=0,
        description="Seconds a claimed notice stays with its process unless renewed; after a "
        "crash, what the process held goes out again this much later.",
    )
    signing_keys_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds to wait for the channel's token-signing keys (OpenID metadata and "
        "JWKS); meanwhile cached keys stay in use, and without any a request gets 401.",
    )
    log_format: LogFormat = Field(
        LogFormat.text, description="`text` lines, or `json`: one JSON object per line."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""), description="When set, /metrics needs `Authorization: Bearer <token>`."
    )
    organisation: str = Field(
        "", description="Who runs this service (the data controller), named on /privacy."
    )
    privacy_contact: str = Field(
        "", description="Where people ask about their data (e-mail or web address), on /privacy."
    )
    # Reach: proactive installation through Microsoft Graph (docs/deploy.md, section 11)
    proactive_install: bool = Field(
        False,
        description="Install the Teams app through Microsoft Graph for people the bot cannot "
        "reach yet, before reminders and broadcasts and on `btassist reach install`.",
    )
    teams_app_id: str = Field(
        "",
        description="The Teams app's id in the organisation's app catalogue (Graph teamsApp id).",
    )
    graph_url: str = Field(
        "https://graph.microsoft.com/v1.0", description="Microsoft Graph's base URL."
    )
    login_url: str = Field(
        "https://login.microsoftonline.com",
        description="Entra ID's login base URL, where the Graph token is requested.",
    )
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams/",
        description="The Bot Connector service URL used to open a chat nobody has started yet.",
    )

    APP_ID: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "APP_ID"))
    app_password: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "APP_PASSWORD")
    )
    APP_TYPE: str = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "APP_TYPE")
    )
    APP_TENANTID: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "APP_TENANTID")
    )

    @field_validator("allowed_tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("faq_dir", "policy_dir", mode="before")
    @classmethod
    def _blank_is_shipped_copy(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        async_database_url(value)  # raises ValueError for anything we cannot drive
        return value

    @model_validator(mode="after")
    def _clock_only_locally(self) -> Self:
        if self.clock_start is not None and self.APP_ID:
            raise ValueError("clock_start is for local mode only: unset it or MicrosoftAppId")
        return self

    @property
    def clock_start_utc(self) -> datetime | None:
        """`clock_start` as an aware UTC instant (a time without offset is local time)."""
        start = self.clock_start
        if start is None:
            return None
        return (start if start.tzinfo else start.replace(tzinfo=self.zone)).astimezone(UTC)

    @property
    def APP_PASSWORD(self) -> str:
        """The plain secret, for botbuilder's credential factory only."""
        return self.app_password.get_secret_value()

    @property
    def local_mode(self) -> bool:
        """No app id: emulator-style local mode without Bot Framework authentication."""
        return not self.APP_ID

    @cached_property
    def zone(self) -> ZoneInfo:
        """The local time zone as an object."""
        return ZoneInfo(self.timezone)

    @property
    def async_database_url(self) -> str:
        """The database URL with the async driver the engine needs."""
        return async_database_url(self.database_url)


def async_database_url(url: str) -> str:
    """Map a plain `sqlite:`/`postgresql:` URL to its aiosqlite/asyncpg form."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in {"postgresql", "postgres"}:
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {scheme!r}: use sqlite:/// or postgresql://")


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite") or rest in {"", "/", "/:memory:"}:
        return None
    return Path(rest[1:]) if rest.startswith("/") else Path(rest)
