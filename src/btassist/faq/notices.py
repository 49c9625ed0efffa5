"""What notices about forwarded questions carry: the question."""

from __future__ import annotations

from btassist.common.ids import Id
from btassist.outbox.notices import NoticeKind, Params, register


@register(NoticeKind.faq_question, NoticeKind.faq_answer)
class QuestionNotice(Params):
    """A notice about one forwarded question (to the coordinators, or the answer back)."""

    question_id: Id
