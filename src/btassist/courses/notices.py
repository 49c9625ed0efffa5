"""What course notices carry: the session they are about."""

from __future__ import annotations

from btassist.common.ids import Id
from btassist.outbox.notices import NoticeKind, Params, register


@register(NoticeKind.waitlist_promoted, NoticeKind.session_cancelled)
class SessionNotice(Params):
    """A notice about one course session (a seat that freed up, a cancellation)."""

    session_id: Id
