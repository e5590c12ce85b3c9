"""Notices (家乡来信, policy briefings): written once, delivered to thousands of members by the
`notice_published` event's handler in one INSERT … SELECT, read status per member.
Plain Python, no nameko: the entrypoints pass data already loaded through the schemas."""
import uuid

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import NotFound, ValidationFailed
from services.plumbing.pagination import as_utc

from . import events
from .models import Member, Notice, NoticeDelivery
from .orgs import get_org, in_scope, members_under_clause, plausible_id
from .registry import ACTIVE, PENDING

KINDS = ("letter_from_home", "policy_briefing", "other")

# "Mobile members": flowed out and not back home.
RECIPIENT_STATUSES = (PENDING, ACTIVE)


def publish(tx: Transaction, caller: Caller, data: dict) -> Notice:
    org = get_org(tx.session, data["org_id"])
    if not in_scope(tx.session, caller, org):
        raise ValidationFailed("invalid input", {"org_id": ["no such org unit in your scope"]})
    notice = Notice(id=str(uuid.uuid4()), org_id=org.id, kind=data["kind"], title=data["title"],
                    body=data["body"], delivered_count=0, created_at=utcnow())
    tx.session.add(notice)
    tx.session.flush()
    tx.emit(events.notice_published(notice, org.path))
    return notice


def deliver(session: Session, notice_id: str, path: str) -> int:
    """One statement for every recipient, however many: the members under the sender's subtree
    at delivery time. Called once per event (the handler records the delivery)."""
    now = utcnow()
    recipients = (select(literal(notice_id), Member.id, literal(now))
                  .where(members_under_clause(session, path), Member.status.in_(RECIPIENT_STATUSES)))
    session.execute(insert(NoticeDelivery).from_select(
        ["notice_id", "member_id", "delivered_at"], recipients))
    count = session.scalar(select(func.count()).select_from(NoticeDelivery)
                           .where(NoticeDelivery.notice_id == notice_id))
    session.execute(update(Notice).where(Notice.id == notice_id)
                    .values(delivered_count=count, delivered_at=now))
    return count


def get_notice(session: Session, caller: Caller, notice_id: str) -> Notice:
    notice = session.get(Notice, notice_id) if plausible_id(notice_id) else None
    if notice is None or not in_scope(session, caller, get_org(session, notice.org_id)):
        raise NotFound("notice not found")
    return notice


def notice_view(session: Session, caller: Caller, notice_id: str) -> dict:
    """The notice with read/unread counts and the unread per host org: one grouped query."""
    notice = get_notice(session, caller, notice_id)
    rows = session.execute(
        select(Member.host_org_id, NoticeDelivery.read_at.is_(None), func.count())
        .join(Member, Member.id == NoticeDelivery.member_id)
        .where(NoticeDelivery.notice_id == notice.id)
        .group_by(Member.host_org_id, NoticeDelivery.read_at.is_(None))).all()
    read = sum(c for _host, unread, c in rows if not unread)
    unread_by_host = {}
    for host, unread, count in rows:
        if unread:
            unread_by_host[host or "none"] = unread_by_host.get(host or "none", 0) + count
    return {"id": notice.id, "org_id": notice.org_id, "kind": notice.kind, "title": notice.title,
            "body": notice.body, "delivered_count": notice.delivered_count,
            "delivered_at": notice.delivered_at and as_utc(notice.delivered_at), "read_count": read,
            "unread_count": sum(unread_by_host.values()), "unread_by_host_org": unread_by_host,
            "created_at": as_utc(notice.created_at)}


def mark_read(session: Session, caller: Caller, notice_id: str, data: dict) -> dict:
    notice = get_notice(session, caller, notice_id)
    delivery = session.get(NoticeDelivery, (notice.id, data["member_id"]))
    if delivery is None:
        raise ValidationFailed("invalid input", {"member_id": ["this member did not receive the notice"]})
    if delivery.read_at is None:
        delivery.read_at = utcnow()
    session.flush()
    member = session.get(Member, delivery.member_id)
    return delivery_view(delivery, member)


def deliveries(session: Session, caller: Caller, notice_id: str, data: dict):
    """Who has (not) read it, by member id, a page at a time."""
    notice = get_notice(session, caller, notice_id)
    query = (select(NoticeDelivery, Member).join(Member, Member.id == NoticeDelivery.member_id)
             .where(NoticeDelivery.notice_id == notice.id)
             .where(NoticeDelivery.read_at.is_(None) if data["unread"] else NoticeDelivery.read_at.is_not(None))
             .order_by(NoticeDelivery.member_id).limit(data["limit"] + 1))
    if data["cursor"]:
        query = query.where(NoticeDelivery.member_id > data["cursor"])
    rows = session.execute(query).all()
    next_cursor = rows[data["limit"] - 1][0].member_id if len(rows) > data["limit"] else None
    return [delivery_view(d, m) for d, m in rows[:data["limit"]]], next_cursor


def delivery_view(delivery: NoticeDelivery, member: Member) -> dict:
    return {"member_id": delivery.member_id, "name": member.name if member else "",
            "host_org_id": member.host_org_id if member else None,
            "delivered_at": as_utc(delivery.delivered_at),
            "read_at": delivery.read_at and as_utc(delivery.read_at)}
