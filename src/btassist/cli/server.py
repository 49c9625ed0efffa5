"""Running the bot: `serve`, the terminal `chat`, and the Teams app package."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from btassist.cli.common import (
    err,
    fail,
    is_loopback,
    load_settings,
    out,
    require_database,
)
from btassist.common.language import Language


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 3978,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Load the demo roster and course sessions (idempotent)."),
    ] = False,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            help="In local mode (no MicrosoftAppId), listen on a non-loopback --host anyway: "
            "anyone who reaches it can talk to the bot as anyone.",
        ),
    ] = False,
) -> None:
    """Run the bot's web app (/api/messages, /healthz); migrates the database on start."""
    from aiohttp import web

    from btassist.app import LISTENING_URL, app_factory, listening_url
    from btassist.common.memory import freeze_what_start_built, use_one_malloc_arena
    from btassist.observability.logs import configure_logging
    from btassist.privacy.http import PrivateLinksAccessLogger

    use_one_malloc_arena()  # before any thread is started: see its docstring

    settings = load_settings()
    if settings.local_mode and not is_loopback(host) and not allow_unauthenticated:
        fail(
            f"local mode (no MicrosoftAppId) takes unauthenticated requests, so it listens only "
            f"on loopback, not {host}; use --host 127.0.0.1, set MicrosoftAppId, or pass "
            "--allow-unauthenticated"
        )
    require_database(settings.database_url)
    configure_logging(settings.log_format)  # BTASSIST_LOG_FORMAT=json: one JSON object a line
    if settings.local_mode:
        err.print(
            "[bold yellow]LOCAL MODE[/]: MicrosoftAppId is not set, so /api/messages takes "
            "requests without Bot Framework authentication (like the Bot Framework Emulator)."
        )
        if not is_loopback(host):
            err.print(
                f"[bold red]WARNING[/]: listening on {host} in local mode: anyone who can reach "
                "this address can talk to the bot as anyone. Use --host 127.0.0.1, or set "
                "MicrosoftAppId and MicrosoftAppPassword."
            )
    app = app_factory(settings, demo=demo)
    app[LISTENING_URL] = listening_url(host, port)
    if settings.local_mode:  # the browser chat: where it is, and (demo) who to be
        from btassist.webchat.intro import announce_chat

        app.on_startup.append(announce_chat(out, demo=demo))
    app.on_startup.append(freeze_what_start_built)
    web.run_app(
        app,
        host=host,
        port=port,
        print=out.print,
        access_log_class=PrivateLinksAccessLogger,  # feed and export links are secrets: not logged
    )


def chat(
    as_email: Annotated[
        str | None,
        typer.Option("--as", metavar="EMAIL", help="Chat as this person; skips the picker."),
    ] = None,
    lang: Annotated[
        Language | None, typer.Option(help="Teams language sv or en; skips the question.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo roster (idempotent).")
    ] = True,
) -> None:
    """Chat with the bot in the terminal as a roster person: no Teams, no Azure (local mode)."""
    from btassist.localchat.repl import ChatOptions, ChatStartError, run_chat

    settings = load_settings()
    require_database(settings.database_url)
    # Errors only: the chat says itself that it runs in local mode, and turn failures still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    try:
        code = run_chat(settings, ChatOptions(demo=demo, as_email=as_email, language=lang))
    except ChatStartError as error:
        err.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:  # where the chat cannot catch Ctrl-C itself (Windows)
        code = 0
    raise typer.Exit(code)


def teams_package(
    output: Annotated[
        Path, typer.Option("--out", help="Where to write the zip to upload in Teams.")
    ] = Path("btassist-teams.zip"),
) -> None:
    """Build the Teams app package for this bot (MicrosoftAppId, BTASSIST_PUBLIC_URL)."""
    from btassist.teamsapp.package import PackageError, build_package

    settings = load_settings()
    try:
        data = build_package(app_id=settings.APP_ID, public_url=settings.public_url)
    except PackageError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    out.print(
        f"wrote {output} ({len(data)} bytes); upload it in Teams: Apps → Manage your apps → "
        "Upload an app",
        markup=False,
        highlight=False,
    )
