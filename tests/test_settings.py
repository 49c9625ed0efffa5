"""Settings come from the environment and `.env`, with Bot Framework's own names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from btassist.settings import Settings, async_database_url, sqlite_path

ENV_NAMES = (
    "BTASSIST_DATABASE_URL",
    "BTASSIST_PUBLIC_URL",
    "BTASSIST_TIMEZONE",
    "BTASSIST_ALLOWED_TENANTS",
    "BTASSIST_SEND_RATE",
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_run_locally_on_sqlite() -> None:
    settings = Settings()
    assert settings.database_url == "sqlite:///btassist.db"
    assert settings.async_database_url == "sqlite+aiosqlite:///btassist.db"
    assert settings.public_url == "http://127.0.0.1:3978"
    assert settings.timezone == "Europe/Stockholm"
    assert settings.local_mode
    assert settings.allowed_tenants == frozenset()


def test_bot_framework_names_fill_the_attributes_botbuilder_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-123")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-9")
    settings = Settings()
    assert (settings.APP_ID, settings.APP_PASSWORD) == ("app-123", "s3cret")
    assert (settings.APP_TYPE, settings.APP_TENANTID) == ("SingleTenant", "tenant-9")
    assert not settings.local_mode
    assert "s3cret" not in repr(settings)


def test_dotenv_is_read_and_tenants_are_split(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "BTASSIST_DATABASE_URL=postgresql://postgres@127.0.0.1/bt\n"
        "BTASSIST_ALLOWED_TENANTS= t1 , t2,\n",
        encoding="utf-8",
    )
    settings = Settings()
    assert settings.async_database_url == "postgresql+asyncpg://postgres@127.0.0.1/bt"
    assert settings.allowed_tenants == frozenset({"t1", "t2"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BTASSIST_DATABASE_URL", "mysql://root@localhost/bt"),
        ("BTASSIST_DATABASE_URL", "btassist.db"),
        ("BTASSIST_TIMEZONE", "Europe/Atlantis"),
        ("BTASSIST_SEND_RATE", "0"),
    ],
)
def test_bad_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert variable.removeprefix("BTASSIST_").lower() in str(raised.value)


def test_driver_qualified_urls_are_accepted_as_given() -> None:
    assert async_database_url("postgresql+psycopg://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_database_url("sqlite:////var/lib/bt.db") == "sqlite+aiosqlite:////var/lib/bt.db"
    assert sqlite_path("sqlite:////var/lib/bt.db") == Path("/var/lib/bt.db")
    assert sqlite_path("sqlite:///bt.db") == Path("bt.db")
    assert sqlite_path("postgresql://u@h/d") is None


def test_a_start_time_for_the_clock_is_for_local_mode_only() -> None:
    local = Settings(_env_file=None, clock_start="2026-12-07 08:30")  # type: ignore[call-arg]
    assert local.clock_start_utc is not None
    assert local.clock_start_utc.isoformat() == "2026-12-07T07:30:00+00:00"  # CET
    with pytest.raises(ValidationError, match="local mode only"):
        Settings(_env_file=None, clock_start="2026-12-07 08:30", APP_ID="real-bot")  # type: ignore[call-arg]
    assert Settings(_env_file=None).reminder_sweeps  # type: ignore[call-arg]
