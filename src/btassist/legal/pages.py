"""GET /privacy and /terms: the pages the Teams manifest links to, in Swedish or English.

The language is `?lang=sv|en`, else the browser's first Accept-Language, else Swedish. Texts come
from the message catalogue (messages/legal.yaml); the organisation and the contact from settings.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from btassist.common.language import Language, requested_language
from btassist.i18n.catalogue import t
from btassist.legal.retention import RULES

PRIVACY_ITEMS = (
    "person",
    "programme",
    "plan",
    "courses",
    "teams",
    "calendar",
    "questions",
    "faq_log",
    "notices",
    "your_data",
    "logs",
    # Broadcasts
    "announcements",
    "files",  # the coordinator's desk (issue 15)
)
# Which item of the page describes each table holding personal data, and the tables that hold
# none; a test fails when a table is added without saying where the page describes it.
DESCRIBED_TABLES = {
    "person": "person",
    "person_role": "person",
    "bt_programme": "programme",
    "placement": "programme",
    "enrolment": "courses",
    "course_completion": "courses",
    "conversation_ref": "teams",
    "feed_token": "calendar",
    "faq_question": "questions",
    "conversation_state": "teams",
    "faq_event": "faq_log",
    "outbox_message": "notices",
    # Broadcasts
    "broadcast": "announcements",
    "broadcast_recipient": "announcements",
    "broadcast_event": "announcements",
    "plan_item": "plan",
    "reminder_pause": "plan",
    # Reach and privacy (issues 16 and 13)
    "app_install": "teams",
    "export_link": "your_data",
    # the coordinator's desk (issue 15)
    "pending_upload": "files",
    "download_link": "files",
}
NO_PERSONAL_DATA = frozenset(
    {
        "region",
        "course",
        "course_region",
        "course_session",
        "session_skip",
        "alembic_version",
        "send_budget",  # Broadcasts: sends per tenant and time slice, no person
    }
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_STYLE = (
    "body{font-family:'Segoe UI',system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
    "padding:0 1rem;line-height:1.5;color:#242424}h1{color:#007882}a{color:#007882}"
)


def _paragraph(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text, quote=False))


def html_page(language: Language, title: str, path: str, body: list[str]) -> str:
    """A small page in the style of /privacy, with a link to the same page in the other language."""
    other = Language.en if language is Language.sv else Language.sv
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{language.value}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f'<p><a href="{path}?lang={other.value}">{t("legal.other_language", language)}</a></p>',
            f"<h1>{html.escape(title)}</h1>",
            *body,
            "</body></html>",
        ]
    )


def privacy_html(language: Language, *, organisation: str, contact: str) -> str:
    """The privacy notice: what is stored, why, for how long, who sees it, whom to ask."""
    names = {"organisation": organisation, "contact": contact}

    def p(key: str) -> str:
        return f"<p>{_paragraph(t(key, language, **names))}</p>"

    def h(key: str) -> str:
        return f"<h2>{html.escape(t(key, language))}</h2>"

    items = [
        f"<li>{_paragraph(t(f'legal.privacy.item.{k}', language))}</li>" for k in PRIVACY_ITEMS
    ]
    periods = [
        f"<li>{_paragraph(t(f'legal.retention.{rule.key}', language, days=rule.days))}</li>"
        for rule in RULES
    ]
    body = [
        p("legal.privacy.intro"),
        h("legal.privacy.stored"),
        "<ul>",
        *items,
        "</ul>",
        p("legal.privacy.not_stored"),
        h("legal.privacy.retention"),
        p("legal.privacy.kept_in_roster"),
        "<ul>",
        *periods,
        "</ul>",
        h("legal.privacy.who_sees"),
        p("legal.privacy.who_sees_body"),
        h("legal.privacy.rights"),
        p("legal.privacy.rights_body"),
        f'<p><a href="/terms?lang={language.value}">{t("legal.terms.title", language)}</a></p>',
    ]
    return html_page(language, t("legal.privacy.title", language), "/privacy", body)


def terms_html(language: Language, *, organisation: str, contact: str) -> str:
    """The terms of use: what the assistant is for, what its answers are, how to use it."""
    names = {"organisation": organisation, "contact": contact}
    keys = ("what", "answers", "enrolment", "conduct", "availability")
    body = [f"<p>{_paragraph(t(f'legal.terms.{key}', language, **names))}</p>" for key in keys]
    body.append(
        f'<p><a href="/privacy?lang={language.value}">{t("legal.terms.privacy", language)}</a></p>'
    )
    return html_page(language, t("legal.terms.title", language), "/terms", body)


PageBuilder = Callable[..., str]


def legal_routes(*, organisation: str, contact: str) -> list[web.RouteDef]:
    """GET /privacy and /terms (and HEAD) for this organisation and contact (blank: generic)."""

    def serve(build: PageBuilder) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def page(request: web.Request) -> web.StreamResponse:
            language = requested_language(
                request.query.get("lang"), request.headers.get("Accept-Language")
            )
            text = build(
                language,
                organisation=organisation or t("legal.organisation_unset", language),
                contact=contact or t("legal.contact_unset", language),
            )
            return web.Response(
                text=text,
                content_type="text/html",
                charset="utf-8",
                headers={"Vary": "Accept-Language", "Cache-Control": "public, max-age=3600"},
            )

        return page

    return [web.get("/privacy", serve(privacy_html)), web.get("/terms", serve(terms_html))]
