"""Notices to the requester (受理、一次性告知、转办、延期、办结、不予办理), recorded as outbound
messages in the requester's language. Chinese texts are built in; for another language the
Chinese text is recorded with the language so that the sender (or a translation step) knows
which language it must go out in: `needs_translation` says so."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing.pagination import as_utc

from .events import CATEGORY_NAMES
from .models import Notice, Request

TEMPLATES = {
    "accepted": "您的{category}事项已受理，办理时限{limit}个工作日，办结期限{deadline}。",
    "materials_missing": "您的{category}事项尚缺以下材料，请一次性补齐：{missing}。"
                         "材料补齐后办理时限重新计算。",
    "forwarded": "您的{category}事项已转交{home}办理，我们将跟踪并告知结果。",
    "extended": "因{reason}，您的{category}事项办理时限延长{days}个工作日，新的办结期限为{deadline}。",
    "deadline_changed": "因国家法定节假日安排公布，您的{category}事项办结期限由{previous}调整为"
                        "{deadline}。",
    "completed": "您的{category}事项已办结：{outcome}",
    "rejected": "您的{category}事项不予办理，原因：{reason}",
}
KINDS = tuple(TEMPLATES)


def send(session: Session, request: Request, kind: str, at, **values) -> Notice:
    values = {"category": CATEGORY_NAMES[request.category],
              "limit": request.time_limit_days + request.extended_days,
              "deadline": request.deadline.isoformat() if request.deadline else "（暂停计时）",
              **values}
    if "missing" in values:
        values["missing"] = "、".join(values["missing"])
    notice = Notice(request_id=request.id, kind=kind, language=request.language,
                    text=TEMPLATES[kind].format(**values), created_at=at)
    session.add(notice)
    session.flush()
    return notice


def notices_of(session: Session, request_id: str) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.request_id == request_id)
                                .order_by(Notice.id)))


def notice_view(notice: Notice) -> dict:
    return {"kind": notice.kind, "language": notice.language, "text": notice.text,
            "needs_translation": notice.language != "zh", "created_at": as_utc(notice.created_at)}
