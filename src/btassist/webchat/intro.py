"""What `btassist serve` says first in local mode: where the chat is, and who to be."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from rich.console import Console

from btassist.app import DATABASE, LISTENING_URL, SETTINGS, public_url
from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.i18n.roles import ROLE_ORDER, role_names
from btassist.roster.queries import list_people
from btassist.webchat.page import main_role

# Terminal lines of the server itself, like `btassist chat`'s: bilingual, not bot messages.
CHAT_AT = "BT-assistenten i webbläsaren / in the browser: {url}"
PEOPLE = "Demopersoner / demo people (klicka på ett namn / click a name, or {url}?as=EMAIL):"


def announce_chat(console: Console, *, demo: bool) -> Callable[[web.Application], Awaitable[None]]:
    """A startup hook printing the /chat address and, with the demo, the people to try it as."""

    def print_line(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    async def announce(app: web.Application) -> None:
        base = app.get(LISTENING_URL) or public_url(app[SETTINGS], app)
        url = base.rstrip("/") + "/chat"
        print_line(CHAT_AT.format(url=url))
        if not demo:
            return
        async with app[DATABASE].session(write_lock=False) as session:
            people = [p for p in await list_people(session) if p.person.active]
        print_line(PEOPLE.format(url=url))
        people.sort(key=lambda p: (ROLE_ORDER.index(main_role(p)), p.person.region_code))
        for summary in people:
            person = summary.person
            print_line(
                f"  {role_names(summary.roles, Language.sv):<28} {person.name:<18} "
                f"{region_name(person.region_code, Language.sv):<17} {person.email}"
            )

    return announce
