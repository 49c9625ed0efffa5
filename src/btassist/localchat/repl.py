"""`btassist chat`: the real bot in-process on loopback, talked to from the terminal.

No Teams and no Azure: the web app runs in local mode on 127.0.0.1 and serves the local Bot
Connector itself, `ChatClient` posts what Teams would post for the person the user picks, and
what the bot sends between turns (notices, answers, reminders) is printed as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from rich.console import Console
from rich.text import Text

from btassist.app import DATABASE, app_factory
from btassist.common.language import Language
from btassist.i18n.roles import ROLE_ORDER, role_names
from btassist.localchat.client import (
    BOT_NAME,
    LOCAL_TENANT,
    BotReply,
    Button,
    ChatClient,
    ChatUser,
    chat_user,
)
from btassist.localchat.loopback import serving
from btassist.localchat.render import RenderedReply, render_reply
from btassist.roster.queries import PersonSummary, list_people
from btassist.settings import Settings
from btassist.webchat.http import LOCAL_CONNECTOR

QUIT_WORDS = frozenset({"quit", "exit", "avsluta", "/quit", "/exit"})
LANGUAGE_WORDS = {
    "sv": Language.sv,
    "svenska": Language.sv,
    "swedish": Language.sv,
    "en": Language.en,
    "english": Language.en,
    "engelska": Language.en,
}

# The chat tool's own words: terminal-tool strings, not bot messages, so not in the catalogue.
# Before a language is chosen they are bilingual.
PICK_IDENTITY = "Vem vill du vara? / Who do you want to be?"
PICK_PROMPT = "Nummer eller e-post / number or e-mail: "
PICK_AGAIN = "Välj ett nummer från listan / pick a number from the list."
LANGUAGE_PROMPT = "Språk / language (sv/en) [{default}]: "
LANGUAGE_AGAIN = "Skriv sv eller en / type sv or en."
STARTING = "Startar BT-assistenten lokalt … / Starting BT-assistenten locally …"
APP_ID_IGNORED = (
    "MicrosoftAppId är satt men ignoreras: btassist chat kör alltid i lokalt läge. / "
    "MicrosoftAppId is set but ignored: btassist chat always runs in local mode."
)
EMPTY_ROSTER = (
    "Rosterlistan är tom: importera en med `btassist roster import` eller kör utan --no-demo. / "
    "The roster is empty: import one with `btassist roster import` or run without --no-demo."
)
START_FAILED = "BT-assistenten startade inte / BT-assistenten did not start: {error}"
UI: dict[Language, dict[str, str]] = {
    Language.sv: {
        "you_are": "Du är {who}. Lokalt läge: inget lämnar den här datorn.",
        "stranger": "{email} finns inte i rosterlistan; boten behandlar dig som okänd.",
        "preference": (
            "Obs: {name} har valt {stored} hos boten, och det valet går före Teams-språket. "
            'Skriv "{switch}" för att byta.'
        ),
        "help": "Skriv till boten, en siffra för att klicka på en knapp, eller avsluta (Ctrl-D).",
        "prompt": "du › ",
        "no_button": "Det finns ingen knapp {number}.",
        "no_reply": "(inget svar)",
        "http_error": "Boten svarade HTTP {status}: {body}",
        "unreachable": "Kunde inte nå boten: {error}",
        "bye": "Hej då!",
        "sv": "svenska",
        "en": "engelska",
    },
    Language.en: {
        "you_are": "You are {who}. Local mode: nothing leaves this computer.",
        "stranger": "{email} is not in the roster; the bot will treat you as a stranger.",
        "preference": (
            "Note: {name} has chosen {stored} with the bot, and that choice wins over the Teams "
            'language. Type "{switch}" to change it.'
        ),
        "help": "Type to the bot, a number to click a button, or quit (Ctrl-D).",
        "prompt": "you › ",
        "no_button": "There is no button {number}.",
        "no_reply": "(no reply)",
        "http_error": "The bot answered HTTP {status}: {body}",
        "unreachable": "Could not reach the bot: {error}",
        "bye": "Bye!",
        "sv": "Swedish",
        "en": "English",
    },
}
SWITCH_PHRASE = {Language.sv: "på svenska", Language.en: "in English"}

LineReader = Callable[[str], Awaitable[str | None]]


class ChatStartError(Exception):
    """The chat cannot begin (the app did not start, nobody to chat as)."""


class _UserLeft(Exception):
    """Ctrl-D or a quit word at any prompt."""


@dataclass(frozen=True)
class ChatOptions:
    """What `btassist chat` was asked for on the command line."""

    demo: bool = True
    as_email: str | None = None
    language: Language | None = None


def run_chat(
    settings: Settings,
    options: ChatOptions,
    *,
    console: Console | None = None,
    read_line: LineReader | None = None,
) -> int:
    """Run a chat session until quit, Ctrl-D or Ctrl-C; the exit code (0 unless it cannot start)."""
    with _terminal_restored():
        return asyncio.run(
            chat_until_interrupted(
                settings,
                options,
                console=console or Console(highlight=False),
                read_line=read_line or read_line_in_thread,
            )
        )


async def chat_until_interrupted(
    settings: Settings, options: ChatOptions, *, console: Console, read_line: LineReader
) -> int:
    """The session, with Ctrl-C ending it cleanly (app and connector stopped) instead of a trace."""
    session = asyncio.create_task(chat_session(settings, options, console, read_line))
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        session.cancel()

    handles_sigint = False
    with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows; not the main thread
        loop.add_signal_handler(signal.SIGINT, interrupt)
        handles_sigint = True
    try:
        return await session
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not interrupted or (current is not None and current.cancelling()):
            raise
        return 0
    finally:
        if handles_sigint:
            loop.remove_signal_handler(signal.SIGINT)


async def chat_session(
    settings: Settings, options: ChatOptions, console: Console, read_line: LineReader
) -> int:
    """Start the app and the connector, choose who to be, then chat; stop everything after."""
    if settings.APP_ID:
        console.print(Text(APP_ID_IGNORED, style="yellow"))
    settings = settings.model_copy(update={"APP_ID": "", "app_password": SecretStr("")})
    console.print(Text(STARTING, style="dim"))
    async with _running_app(settings, demo=options.demo) as app:
        connector = app.app[LOCAL_CONNECTOR]  # the app serves the connector in local mode
        async with aiohttp.ClientSession() as http:
            chat = ChatClient(bot_url=app.url, connector=connector, http=http)
            async with app.app[DATABASE].session(write_lock=False) as session:
                people = [p for p in await list_people(session) if p.person.active]
            tenant = min(settings.allowed_tenants, default=LOCAL_TENANT)
            conversation = Conversation(chat=chat, console=console, read_line=read_line)
            return await conversation.run(people, options, tenant=tenant)


@dataclass
class _RunningApp:
    app: web.Application
    url: str


@contextlib.asynccontextmanager
async def _running_app(settings: Settings, *, demo: bool) -> AsyncIterator[_RunningApp]:
    app = app_factory(settings, demo=demo)
    async with contextlib.AsyncExitStack() as stack:
        try:  # starting the app migrates the database and loads the demo roster
            url = await stack.enter_async_context(serving(app))
        except Exception as error:  # shown to the user, e.g. an unreachable database
            raise ChatStartError(START_FAILED.format(error=error)) from error
        yield _RunningApp(app=app, url=url)


class Conversation:
    """One person's chat: greeting, then typed text and numbered clicks until they leave."""

    def __init__(self, *, chat: ChatClient, console: Console, read_line: LineReader) -> None:
        self.chat = chat
        self.console = console
        self.read_line = read_line
        self.language = Language.sv
        self.shown = RenderedReply(Text())  # the last reply with buttons: what numbers mean
        self.card_activity_id: str | None = None  # the card those buttons are on (replyToId)
        self.seen = 0  # the connector's deliveries up to here are shown (or were a turn's reply)
        self.in_turn = False  # a turn's own reply is shown by the turn, not as news
        self.news_shown = asyncio.Event()  # set whenever news between turns was printed

    def ui(self, key: str, **values: object) -> str:
        """A chat-tool string in the chosen language."""
        return UI[self.language][key].format(**values)

    async def run(self, people: list[PersonSummary], options: ChatOptions, *, tenant: str) -> int:
        """Pick the person and language, greet, and loop; 0 when the user leaves."""
        try:
            person = await self.pick_person(people, options.as_email)
            self.language = options.language or await self.pick_language(person)
            user = chat_user(person, options.as_email or "", self.language, tenant_id=tenant)
            self.introduce(person, user)
            await self.turn(self.chat.install(user))
            async with self.following(user):
                while True:
                    await self.answer(user, await self.ask(self.ui("prompt")))
        except _UserLeft:
            self.console.print(Text(self.ui("bye"), style="dim"))
            return 0
        except asyncio.CancelledError:  # Ctrl-C: say goodbye, then let the cancellation through
            self.console.print()
            self.console.print(Text(self.ui("bye"), style="dim"))
            raise

    async def turn(self, request: Awaitable[BotReply]) -> None:
        """Send and show one turn; what arrived meanwhile belongs to its reply, not to news."""
        self.in_turn = True
        try:
            await self.show(await self.send(request))
        finally:
            self.seen = self.chat.connector.last_seq
            self.in_turn = False

    @contextlib.asynccontextmanager
    async def following(self, user: ChatUser) -> AsyncIterator[None]:
        """Print what the bot sends between turns while the body runs."""
        watcher = asyncio.create_task(self.follow(user))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def follow(self, user: ChatUser) -> None:
        """Notices, answers and reminders for `user` as they arrive, each under a fresh prompt."""
        connector = self.chat.connector
        while True:
            if not await connector.wait(
                lambda: not self.in_turn and connector.last_seq > self.seen, 3600
            ):
                continue
            mark, self.seen = self.seen, connector.last_seq
            news = [d.as_sent() for d in connector.deliveries(user.conversation_id, after=mark)]
            if news:
                self.console.print()  # leave the waiting prompt's line
                await self.show(BotReply(200, news))
                self.console.print(Text(self.ui("prompt")), end="")
                self.news_shown.set()

    async def ask(self, prompt: str) -> str:
        """The next non-empty line, stripped; _UserLeft on Ctrl-D or a quit word."""
        while True:
            line = await self.read_line(prompt)
            if line is None or line.strip().lower() in QUIT_WORDS:
                raise _UserLeft
            if line.strip():
                return line.strip()

    async def answer(self, user: ChatUser, text: str) -> None:
        """A bare number clicks that button of the last reply; anything else is said."""
        if not text.isdigit():
            await self.turn(self.chat.say(user, text))
            return
        button = self.shown.button(int(text))
        if button is None:
            self.console.print(Text(self.ui("no_button", number=text), style="yellow"))
            return
        self.console.print(Text(f"  → {button.title}", style="dim"))
        await self.turn(self.press(user, button))

    async def pick_person(
        self, people: list[PersonSummary], as_email: str | None
    ) -> PersonSummary | None:
        """The roster person to chat as: from --as (None if not in the roster) or the list."""
        if as_email is not None:
            wanted = as_email.strip().lower()
            return next((p for p in people if p.person.email.lower() == wanted), None)
        if not people:
            raise ChatStartError(EMPTY_ROSTER)
        ordered = sorted(people, key=_picker_order)
        self.console.print(Text(PICK_IDENTITY, style="bold"))
        for number, summary in enumerate(ordered, start=1):
            self.console.print(_picker_line(number, summary, self.language))
        while True:
            choice = await self.ask(PICK_PROMPT)
            if choice.isdigit() and 1 <= int(choice) <= len(ordered):
                return ordered[int(choice) - 1]
            for summary in ordered:
                if summary.person.email.lower() == choice.lower():
                    return summary
            self.console.print(Text(PICK_AGAIN, style="yellow"))

    async def pick_language(self, person: PersonSummary | None) -> Language:
        """Swedish or English; the person's stored choice (else Swedish) on a bare Enter."""
        default = (person.person.language if person else None) or Language.sv
        while True:
            line = await self.read_line(LANGUAGE_PROMPT.format(default=default.value))
            if line is None or line.strip().lower() in QUIT_WORDS:
                raise _UserLeft
            if not line.strip():
                return default
            if (language := LANGUAGE_WORDS.get(line.strip().lower())) is not None:
                return language
            self.console.print(Text(LANGUAGE_AGAIN, style="yellow"))

    def introduce(self, person: PersonSummary | None, user: ChatUser) -> None:
        """Who the user is now, a hint when the bot will not follow the chosen language, help."""
        if person is None:
            self.console.print(Text(self.ui("stranger", email=user.email), style="yellow"))
        else:
            roles = _roles(person, self.language)
            who = f"{person.person.name} ({roles}, {person.person.region_code})"
            self.console.print(Text(self.ui("you_are", who=who), style="dim"))
            stored = person.person.language
            if stored is not None and stored != self.language:
                self.console.print(
                    Text(
                        self.ui(
                            "preference",
                            name=person.person.name.split(" ")[0],
                            stored=self.ui(stored.value),
                            switch=SWITCH_PHRASE[self.language],
                        ),
                        style="yellow",
                    )
                )
        self.console.print(Text(self.ui("help"), style="dim"))

    async def send(self, request: Awaitable[BotReply]) -> BotReply | None:
        """The bot's reply, or None after telling the user the bot could not be reached."""
        try:
            return await request
        except aiohttp.ClientError as error:
            self.console.print(Text(self.ui("unreachable", error=error), style="red"))
            return None

    def press(self, user: ChatUser, button: Button) -> Awaitable[BotReply]:
        """Click `button` (found by its number, so repeated titles and ActionSets work too)."""
        return self.chat.press(user, button, card_activity_id=self.card_activity_id)

    async def show(self, reply: BotReply | None) -> None:
        """Print a reply; its buttons become what numbers click. Errors are shown, not raised."""
        if reply is None:
            return
        rendered = render_reply(reply)
        self.console.print(Text(BOT_NAME, style="bold cyan"))
        if rendered.text.plain.strip():
            self.console.print(rendered.text)
        elif 200 <= reply.status < 300:
            self.console.print(Text(self.ui("no_reply"), style="dim"))
        if not 200 <= reply.status < 300:
            body = reply.body if reply.body is not None else ""
            self.console.print(
                Text(self.ui("http_error", status=reply.status, body=body), style="red")
            )
        if rendered.buttons:
            self.shown = rendered
            self.card_activity_id = reply.card_activity_id
        self.console.print()


def _picker_order(summary: PersonSummary) -> tuple[int, str, str]:
    most_senior = max((ROLE_ORDER.index(role) for role in summary.roles), default=0)
    return (most_senior, summary.person.region_code, summary.person.name)


def _roles(summary: PersonSummary, language: Language) -> str:
    return role_names(summary.roles, language)


def _picker_line(number: int, summary: PersonSummary, language: Language) -> Text:
    line = Text("  ")
    line.append(f"[{number}]".rjust(4), style="bold cyan")
    line.append(f" {summary.person.name}")
    details = f"{_roles(summary, language)}, {summary.person.region_code}"
    if summary.person.language:
        details += f", {summary.person.language.value}"
    line.append(f" – {details}", style="dim")
    return line


async def read_line_in_thread(prompt: str) -> str | None:
    """One line from stdin, read in a daemon thread so the event loop keeps running.

    None at end of input (Ctrl-D). A daemon thread rather than the default executor because
    Ctrl-C leaves it blocked in input(), and the executor would wait for it on shutdown.
    """
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def settle(line: str | None, error: BaseException | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(line)

    def read() -> None:
        line: str | None = None
        error: BaseException | None = None
        try:
            line = input(prompt)
        except EOFError:
            print(flush=True)  # end the prompt's line
        except BaseException as failure:  # handed to the waiting coroutine
            error = failure
        with contextlib.suppress(RuntimeError):  # the loop closed while we were blocked
            loop.call_soon_threadsafe(settle, line, error)

    threading.Thread(target=read, name="btassist-chat-input", daemon=True).start()
    return await answer


@contextlib.contextmanager
def _terminal_restored() -> Iterator[None]:
    """Put the terminal back as it was: Ctrl-C can leave input() mid-line in raw mode."""
    try:
        import termios
    except ImportError:  # Windows
        yield
        return
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (AttributeError, ValueError, OSError, termios.error):  # no stdin, or not a terminal
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
