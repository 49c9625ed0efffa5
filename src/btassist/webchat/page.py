"""The /chat pages as HTML: the person picker, and Web Chat opened as one person."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Final
from urllib.parse import urlencode

from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.i18n.catalogue import t
from btassist.i18n.roles import ROLE_ORDER, role_names
from btassist.roster.models import Role
from btassist.roster.queries import PersonSummary

WEBCHAT_VERSION: Final = "4.18.1"
"""The vendored botframework-webchat (scripts/update_webchat.sh); busts browser caches."""
STATIC: Final = "/chat/static"
POLLING_INTERVAL_MS: Final = 500


def chat_url(*, email: str | None = None, language: Language = Language.sv) -> str:
    """The address of the picker, or of the chat as `email`, in `language` (a path)."""
    query = {"as": email} if email else {}
    return "/chat?" + urlencode({**query, "lang": language.value})


def main_role(summary: PersonSummary) -> Role:
    """The role a person is listed under: the most senior one they hold."""
    held = [role for role in ROLE_ORDER if role in summary.roles]
    return held[-1] if held else Role.doctor


def _document(language: Language, title: str, body: str, *, body_class: str = "") -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="{language.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="data:,">'  # no favicon request
        f'<link rel="stylesheet" href="{STATIC}/chat.css?v={WEBCHAT_VERSION}">'
        f'</head><body class="{body_class}">{body}</body></html>\n'
    )


def picker_page(people: list[PersonSummary], language: Language) -> str:
    """Who to be: the active roster by role, then region and name, each a link to the chat."""
    other = Language.en if language is Language.sv else Language.sv
    parts = [
        '<main class="picker">',
        f"<h1>{escape(t('webchat.pick', language))}</h1>",
        f"<p>{escape(t('webchat.pick_hint', language))} "
        f'<a href="{escape(chat_url(language=other))}">'
        f"{escape(t('webchat.other_language', language))}</a></p>",
    ]
    active = [p for p in people if p.person.active]
    if not active:
        parts.append(f"<p>{escape(t('webchat.empty_roster', language))}</p>")
    for role in ROLE_ORDER:
        group = sorted(
            (p for p in active if main_role(p) is role),
            key=lambda p: (p.person.region_code, p.person.name),
        )
        if not group:
            continue
        parts.append(f"<h2>{escape(t(f'role.{role.value}', language))}</h2>")
        parts.append(
            "<table><thead><tr>"
            f"<th>{escape(t('webchat.column_name', language))}</th>"
            f"<th>{escape(t('webchat.column_region', language))}</th>"
            f"<th>{escape(t('webchat.column_email', language))}</th>"
            "</tr></thead><tbody>"
        )
        for summary in group:
            person = summary.person
            others = summary.roles - {role}
            also = t("webchat.also", language, roles=role_names(others, language))
            link = chat_url(email=person.email, language=language)
            parts.append(
                "<tr>"
                f'<td><a class="person" href="{escape(link)}">{escape(person.name)}</a>'
                + (f' <span class="also">({escape(also)})</span>' if others else "")
                + "</td>"
                f"<td>{escape(region_name(person.region_code, language))}</td>"
                f"<td>{escape(person.email)}</td>"
                "</tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</main>")
    return _document(language, t("webchat.title", language), "".join(parts))


def chat_page(
    *,
    language: Language,
    email: str,
    summary: PersonSummary | None,
    config: dict[str, Any],
) -> str:
    """Web Chat as one person: who they are, how to switch, and the chat filling the page."""
    other = Language.en if language is Language.sv else Language.sv
    if summary is None:
        who = t("webchat.stranger", language, email=email)
        title = email
    else:
        person = summary.person
        title = person.name
        who = t(
            "webchat.you_are",
            language,
            name=person.name,
            roles=role_names(summary.roles, language),
            region=region_name(person.region_code, language),
        )
    data = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    body = (
        '<header class="bar">'
        f'<span class="who">{escape(who)}</span>'
        f'<span class="local">{escape(t("webchat.local_only", language))}</span>'
        f'<a href="{escape(chat_url(email=email, language=other))}">'
        f"{escape(t('webchat.other_language', language))}</a>"
        f'<a href="{escape(chat_url(language=language))}">'
        f"{escape(t('webchat.switch_person', language))}</a>"
        "</header>"
        f'<div id="webchat" role="main"><noscript>{escape(t("webchat.needs_script", language))}'
        "</noscript></div>"
        f'<script id="btassist-chat" type="application/json">{data}</script>'
        f'<script src="{STATIC}/webchat.js?v={WEBCHAT_VERSION}"></script>'
        f'<script src="{STATIC}/chat.js?v={WEBCHAT_VERSION}"></script>'
    )
    return _document(language, f"{title} – BT-assistenten", body, body_class="chat")
