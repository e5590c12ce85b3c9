"""Campaigns: called by the caller's org unit, seen from that unit's subtree, with totals exact
to the fen. Plain Python: the entrypoints pass a Transaction (session + emit) or a session."""
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, NotFound
from services.plumbing.money import CENT
from services.plumbing.pagination import as_utc, page

from . import events
from .models import TENANCY, Campaign, Donation

PURPOSES = ("pandemic_relief", "flood_relief", "poverty_alleviation", "school_supplies", "other")
OPEN = "open"
# Campaign dates are calendar days where the campaigns run: China, UTC+8 all year (no DST).
CHINA_TIME = timezone(timedelta(hours=8), "China")


def day_in_china(moment: datetime) -> date:
    return as_utc(moment).astimezone(CHINA_TIME).date()


def create_campaign(tx: Transaction, caller: Caller, data: dict) -> Campaign:
    """The caller's own org unit organises the campaign; it must be known from members' events."""
    if caller.platform_wide:
        raise Forbidden("a campaign is called by an org unit: use a key of that unit",
                        {"caller": ["a platform-wide key belongs to no org unit"]})
    if TENANCY.org_path(tx.session, caller.org_id) is None:
        raise Forbidden("your org unit is not known to the donations service (yet)",
                        {"caller": ["unknown org unit"]})
    campaign = Campaign(
        id=str(uuid.uuid4()), organiser_org_id=caller.org_id, title=data["title"].strip(),
        purpose=data["purpose"], goal=data["goal"], opens_on=data["opens_on"],
        closes_on=data["closes_on"], status=OPEN, receipts_issued=0, created_at=utcnow())
    tx.session.add(campaign)
    tx.session.flush()
    tx.emit(events.campaign_opened(campaign))
    return campaign


def get_visible_campaign(session: Session, caller: Caller, campaign_id, *,
                         lock: bool = False) -> Campaign:
    """The campaign if its organiser lies in the caller's subtree, else NotFound. `lock` takes
    the row lock that serialises gifts to one campaign (receipt numbers, idempotency keys)."""
    if not isinstance(campaign_id, str):
        raise NotFound("campaign not found")
    query = select(Campaign).where(Campaign.id == campaign_id)
    clause = TENANCY.org_column_in_scope(session, caller, Campaign.organiser_org_id)
    if clause is not None:
        query = query.where(clause)
    if lock:
        # Re-read under the lock: an earlier read in this session must not hide a newer counter.
        query = query.with_for_update(of=Campaign).execution_options(populate_existing=True)
    campaign = session.scalar(query)
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


def list_visible_campaigns(session: Session, caller: Caller,
                           query_params: dict) -> tuple[list[Campaign], str | None]:
    query = select(Campaign)
    clause = TENANCY.org_column_in_scope(session, caller, Campaign.organiser_org_id)
    if clause is not None:
        query = query.where(clause)
    return page(session, query, Campaign.created_at, Campaign.id, query_params["limit"],
                query_params["cursor"])


@dataclass(frozen=True)
class Totals:
    cash_total: Decimal = Decimal("0.00")
    donation_count: int = 0
    late_count: int = 0


def fen_sum(amount_column):
    """SUM of a money column, in whole fen.

    SQLite keeps NUMERIC values as binary floating point, so a plain SUM there can drift by a
    fen over many rows. Each amount rounded to whole fen is exact, and a sum of integers is
    exact on SQLite and PostgreSQL alike."""
    return func.sum(cast(func.round(amount_column * 100), BigInteger))


def yuan_from_fen(fen) -> Decimal:
    return Decimal(fen or 0).scaleb(-2).quantize(CENT)


def totals_of(session: Session, campaign_ids: list[str]) -> dict[str, Totals]:
    """Cash total, gift count and late-gift count of each campaign, from one grouped query."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Donation.campaign_id, fen_sum(Donation.amount), func.count(),
               func.count().filter(Donation.late))
        .where(Donation.campaign_id.in_(campaign_ids))
        .group_by(Donation.campaign_id))
    found = {campaign_id: Totals(yuan_from_fen(fen), count, late)
             for campaign_id, fen, count, late in rows}
    return {campaign_id: found.get(campaign_id, Totals()) for campaign_id in campaign_ids}


def campaign_view(campaign: Campaign, totals: Totals) -> dict:
    return {
        "id": campaign.id, "organiser_org_id": campaign.organiser_org_id,
        "title": campaign.title, "purpose": campaign.purpose, "goal": campaign.goal,
        "opens_on": campaign.opens_on, "closes_on": campaign.closes_on,
        "status": campaign.status, "created_at": as_utc(campaign.created_at),
        "cash_total": totals.cash_total, "donation_count": totals.donation_count,
        "late_count": totals.late_count,
    }


def campaign_views(session: Session, campaigns: list[Campaign]) -> list[dict]:
    totals = totals_of(session, [campaign.id for campaign in campaigns])
    return [campaign_view(campaign, totals[campaign.id]) for campaign in campaigns]
