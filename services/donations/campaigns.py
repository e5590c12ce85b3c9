"""Campaigns: called by the caller's org unit, seen from that unit's subtree, with totals exact
to the fen; status draft → open → closed → settled. Plain Python: the entrypoints pass a
Transaction (session + emit) or a session."""
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from sqlalchemy import BigInteger, Row, bindparam, case, cast, func, select, update
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.clock import today_in_china
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Forbidden, InvalidTransition, NotFound
from services.plumbing.ids import plausible_id
from services.plumbing.money import CENT
from services.plumbing.pagination import as_utc, page

from . import events
from .goods import balances as goods_balances
from .models import MONEY, TENANCY, Beneficiary, Campaign, Disbursement, Donation

PURPOSES = ("pandemic_relief", "flood_relief", "poverty_alleviation", "school_supplies", "other")
BENEFICIARY_KINDS = ("village", "school", "household", "other")
DRAFT, OPEN, CLOSED, SETTLED = "draft", "open", "closed", "settled"
CASH, IN_KIND = "cash", "in_kind"
def create_campaign(tx: Transaction, caller: Caller, data: dict) -> Campaign:
    """The caller's own org unit organises the campaign; it must be known from members' events.
    A draft takes no gifts until it is opened; otherwise it opens at once."""
    if caller.platform_wide or caller.is_public:
        raise Forbidden("a campaign is called by an org unit: use a key of that unit",
                        {"caller": ["a platform-wide key belongs to no org unit"]})
    if TENANCY.org_path(tx.session, caller.org_id) is None:
        raise Forbidden("your org unit is not known to the donations service (yet)",
                        {"caller": ["unknown org unit"]})
    campaign = Campaign(
        id=str(uuid.uuid4()), organiser_org_id=caller.org_id, title=data["title"].strip(),
        purpose=data["purpose"], goal=data["goal"], opens_on=data["opens_on"],
        closes_on=data["closes_on"], status=DRAFT if data["draft"] else OPEN,
        public=data["public"], cash_balance=Decimal("0.00"), cash_reserved=Decimal("0.00"),
        receipts_issued=0, created_at=utcnow())
    tx.session.add(campaign)
    tx.session.flush()  # the rows below refer to it (no ORM relationships order the inserts)
    for beneficiary in data["beneficiaries"]:
        tx.session.add(Beneficiary(id=str(uuid.uuid4()), campaign_id=campaign.id,
                                   kind=beneficiary["kind"], name=beneficiary["name"].strip(),
                                   county=beneficiary["county"].strip()))
    tx.session.flush()
    if campaign.status == OPEN:
        tx.emit(events.campaign_opened(campaign))
        _close_if_past_its_last_day(tx, campaign)
    return campaign


# -- status ---------------------------------------------------------------------------------------
def open_campaign(tx: Transaction, caller: Caller, campaign_id) -> Campaign:
    campaign = get_visible_campaign(tx.session, caller, campaign_id, lock=True)
    _require_status(campaign, (DRAFT,), "only a draft can be opened")
    campaign.status = OPEN
    tx.emit(events.campaign_opened(campaign))
    _close_if_past_its_last_day(tx, campaign)
    return campaign


def _close_if_past_its_last_day(tx: Transaction, campaign: Campaign) -> None:
    """A campaign opened after its last day (entered afterwards) is closed at once, as the timer
    would close it: its first read must not show it open."""
    if campaign.closes_on < today_in_china():
        _close(tx, campaign, "date")


def close_campaign(tx: Transaction, caller: Caller, campaign_id) -> Campaign:
    """Closing by hand (early, or on the day). Gifts after it are still taken, marked late."""
    campaign = get_visible_campaign(tx.session, caller, campaign_id, lock=True)
    _require_status(campaign, (OPEN,), "only an open campaign can be closed")
    _close(tx, campaign, "hand")
    return campaign


def close_due_campaigns(tx: Transaction, today: date) -> list[str]:
    """The timer's work: closes every open campaign whose last day is before `today` (China
    time) and emits `campaign_closed` for each, once: the status changes under the row lock, in
    the same transaction as the event. Replicas skip rows another replica is closing."""
    due = tx.session.scalars(
        select(Campaign).where(Campaign.status == OPEN, Campaign.closes_on < today)
        .order_by(Campaign.closes_on, Campaign.id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    closed = []
    for campaign in due:
        _close(tx, campaign, "date")
        closed.append(campaign.id)
    return closed


def _close(tx: Transaction, campaign: Campaign, how: str) -> None:
    campaign.status = CLOSED
    campaign.closed_at = utcnow()
    campaign.closed_how = how
    tx.session.flush()
    tx.emit(events.campaign_closed(campaign, totals_of(tx.session, [campaign.id])[campaign.id]))


def settle_campaign(tx: Transaction, caller: Caller, campaign_id) -> Campaign:
    """Settled: closed, every yuan handed over, nothing waiting for approval or payment."""
    campaign = get_visible_campaign(tx.session, caller, campaign_id, lock=True)
    _require_status(campaign, (CLOSED,), "only a closed campaign can be settled")
    pending = tx.session.scalar(select(func.count()).where(
        Disbursement.campaign_id == campaign.id,
        Disbursement.status.in_(("requested", "approved"))))
    problems = {}
    if pending:
        problems["disbursements"] = [f"{pending} disbursement(s) still requested or approved"]
    if campaign.cash_balance != 0:
        problems["cash_balance"] = [f"{campaign.cash_balance} yuan not handed over yet"]
    left = [f"{format(item['left'], 'f')} {item['unit']} of {item['name']}"
            for item in goods_balances(tx.session, campaign.id) if item["left"] > 0]
    if left:
        problems["goods"] = [f"not handed over yet: {', '.join(left)}"]
    if problems:
        raise InvalidTransition("the campaign cannot be settled yet", problems)
    campaign.status = SETTLED
    campaign.settled_at = utcnow()
    return campaign


def _require_status(campaign: Campaign, allowed: tuple, message: str) -> None:
    if campaign.status not in allowed:
        raise InvalidTransition(message, {"status": [f"is {campaign.status}"]})


# -- reading ------------------------------------------------------------------------------------
def get_visible_campaign(session: Session, caller: Caller, campaign_id, *,
                         lock: bool = False) -> Campaign:
    """The campaign if its organiser lies in the caller's subtree, else NotFound. `lock` takes
    the row lock that serialises every change of one campaign's money (receipt numbers,
    balance, goods); a single gift takes it by its UPDATE instead (count_gift)."""
    if not plausible_id(campaign_id) or caller.is_public:
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


def count_gift(session: Session, caller: Caller, campaign_id, cash: Decimal | None) -> Row:
    """Issues the next receipt number of a campaign in the caller's subtree and adds a cash gift
    (`cash`; None for goods) to its balance, in one UPDATE. That UPDATE takes the row lock that
    get_visible_campaign(lock=True) takes, so a gift holds it only from here to its COMMIT, and
    a rolled-back gift gives its number back. Returns (receipts_issued, status, closes_on) as
    they stand under the lock, after a concurrent close or settle. NotFound as
    get_visible_campaign says it."""
    if not plausible_id(campaign_id) or caller.is_public:
        raise NotFound("campaign not found")
    params = {"campaign_id": campaign_id, "cash": cash}
    counting = _counting(cash is not None, TENANCY.caller_prefix(session, caller))
    counted = session.execute(counting, params).first()
    if counted is None:
        get_visible_campaign(session, caller, campaign_id)  # none, or not the caller's: NotFound
        # Visible after all: its organiser came into the caller's subtree since the UPDATE.
        counted = session.execute(_counting(cash is not None, None), params).first()
    return counted


@lru_cache(maxsize=1024)
def _counting(with_cash: bool, scope_prefix: str | None):
    """count_gift's UPDATE for callers of one subtree (`scope_prefix`, None: every campaign).
    Built once per subtree: building a statement and its cache key costs SQLAlchemy more than
    executing one it has seen."""
    table = Campaign.__table__
    statement = (update(table).where(table.c.id == bindparam("campaign_id"))
                 .values(receipts_issued=table.c.receipts_issued + 1)
                 .returning(table.c.receipts_issued, table.c.status, table.c.closes_on))
    if with_cash:
        # SQLite keeps NUMERIC as binary floating point: rounded to the fen, the sum is stored
        # as the Decimal sum would be (PostgreSQL's numeric is exact either way).
        statement = statement.values(cash_balance=func.round(
            table.c.cash_balance + bindparam("cash", type_=MONEY), 2))
    if scope_prefix is not None:  # as TENANCY.org_column_in_scope says it
        statement = statement.where(
            table.c.organiser_org_id.in_(TENANCY.visible_orgs(scope_prefix)))
    return statement


def get_public_campaign(session: Session, campaign_id) -> Campaign:
    """What anyone may read without a key: a campaign marked public, once it is no draft."""
    if not plausible_id(campaign_id):
        raise NotFound("campaign not found")
    campaign = session.scalar(select(Campaign).where(
        Campaign.id == campaign_id, Campaign.public.is_(True), Campaign.status != DRAFT))
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


def list_visible_campaigns(session: Session, caller: Caller,
                           query_params: dict) -> tuple[list[Campaign], str | None]:
    query = select(Campaign)
    clause = TENANCY.org_column_in_scope(session, caller, Campaign.organiser_org_id)
    if clause is not None:
        query = query.where(clause)
    if query_params.get("status"):
        query = query.where(Campaign.status == query_params["status"])
    return page(session, query, Campaign.created_at, Campaign.id, query_params["limit"],
                query_params["cursor"])


def beneficiaries_of(session: Session, campaign_ids: list[str]) -> dict[str, list[Beneficiary]]:
    found = {campaign_id: [] for campaign_id in campaign_ids}
    if campaign_ids:
        for beneficiary in session.scalars(select(Beneficiary).where(
                Beneficiary.campaign_id.in_(campaign_ids)).order_by(Beneficiary.name,
                                                                     Beneficiary.id)):
            found[beneficiary.campaign_id].append(beneficiary)
    return found


# -- totals ---------------------------------------------------------------------------------------
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    cash_total: Decimal = ZERO        # cash gifts, voided ones left out
    goods_total: Decimal = ZERO       # valuation of goods given, voided ones left out
    donation_count: int = 0           # gifts of either kind, voided ones left out
    late_count: int = 0
    cash_voided: Decimal = ZERO
    goods_voided: Decimal = ZERO
    voided_count: int = 0
    cash_disbursed: Decimal = ZERO    # paid out to beneficiaries
    cash_reserved: Decimal = ZERO     # approved, not paid yet
    cash_balance: Decimal = ZERO      # received - voided - paid out

    @property
    def cash_received(self) -> Decimal:
        return self.cash_total + self.cash_voided

    @property
    def raised_total(self) -> Decimal:
        return self.cash_total + self.goods_total


def fen_sum(amount_column):
    """SUM of a money column, in whole fen.

    SQLite keeps NUMERIC values as binary floating point, so a plain SUM there can drift by a
    fen over many rows. Each amount rounded to whole fen is exact, and a sum of integers is
    exact on SQLite and PostgreSQL alike."""
    return func.sum(cast(func.round(amount_column * 100), BigInteger))


def yuan_from_fen(fen) -> Decimal:
    return Decimal(fen or 0).scaleb(-2).quantize(CENT)


def totals_of(session: Session, campaign_ids: list[str]) -> dict[str, Totals]:
    """The totals of each campaign, from two grouped queries (gifts, disbursements)."""
    if not campaign_ids:
        return {}
    voided = Donation.voided_at.is_not(None)
    gifts = {}
    for campaign_id, kind, is_void, fen, count, late in session.execute(
            select(Donation.campaign_id, Donation.kind, case((voided, 1), else_=0),
                   fen_sum(Donation.amount), func.count(), func.count().filter(Donation.late))
            .where(Donation.campaign_id.in_(campaign_ids))
            .group_by(Donation.campaign_id, Donation.kind, case((voided, 1), else_=0))):
        gifts.setdefault(campaign_id, []).append((kind, bool(is_void), yuan_from_fen(fen),
                                                  count, late))
    paid = dict(session.execute(
        select(Disbursement.campaign_id, fen_sum(Disbursement.amount))
        .where(Disbursement.campaign_id.in_(campaign_ids), Disbursement.status == "paid",
               Disbursement.kind == CASH)
        .group_by(Disbursement.campaign_id)).all())
    balances = {row.id: (row.cash_balance, row.cash_reserved) for row in session.execute(
        select(Campaign.id, Campaign.cash_balance, Campaign.cash_reserved)
        .where(Campaign.id.in_(campaign_ids)))}
    result = {}
    for campaign_id in campaign_ids:
        sums = {"cash_total": ZERO, "goods_total": ZERO, "cash_voided": ZERO,
                "goods_voided": ZERO, "donation_count": 0, "late_count": 0, "voided_count": 0}
        for kind, is_void, amount, count, late in gifts.get(campaign_id, ()):
            if is_void:
                sums["cash_voided" if kind == CASH else "goods_voided"] += amount
                sums["voided_count"] += count
            else:
                sums["cash_total" if kind == CASH else "goods_total"] += amount
                sums["donation_count"] += count
                sums["late_count"] += late
        balance, reserved = balances.get(campaign_id, (ZERO, ZERO))
        result[campaign_id] = Totals(
            **sums, cash_disbursed=yuan_from_fen(paid.get(campaign_id)),
            cash_reserved=Decimal(reserved or 0).quantize(CENT),
            cash_balance=Decimal(balance or 0).quantize(CENT))
    return result


def progress_percent(goal: Decimal | None, raised: Decimal) -> Decimal | None:
    """Raised (cash and goods) as a percentage of the goal, cut (not rounded) to 0.01 %."""
    if not goal:
        return None
    return (raised * 100 / goal).quantize(CENT, rounding=ROUND_DOWN)


def totals_view(totals: Totals, goal: Decimal | None) -> dict:
    return {
        "cash_total": totals.cash_total, "goods_total": totals.goods_total,
        "raised_total": totals.raised_total, "donation_count": totals.donation_count,
        "late_count": totals.late_count, "cash_received": totals.cash_received,
        "cash_voided": totals.cash_voided, "goods_voided": totals.goods_voided,
        "voided_count": totals.voided_count, "cash_disbursed": totals.cash_disbursed,
        "cash_reserved": totals.cash_reserved, "cash_balance": totals.cash_balance,
        "progress_percent": progress_percent(goal, totals.raised_total),
    }


def beneficiary_view(beneficiary: Beneficiary) -> dict:
    return {"id": beneficiary.id, "kind": beneficiary.kind, "name": beneficiary.name,
            "county": beneficiary.county}


def campaign_view(campaign: Campaign, totals: Totals,
                  beneficiaries: list[Beneficiary] = ()) -> dict:
    return {
        "id": campaign.id, "organiser_org_id": campaign.organiser_org_id,
        "title": campaign.title, "purpose": campaign.purpose, "goal": campaign.goal,
        "opens_on": campaign.opens_on, "closes_on": campaign.closes_on,
        "status": campaign.status, "public": campaign.public,
        "created_at": as_utc(campaign.created_at),
        "closed_at": as_utc(campaign.closed_at) if campaign.closed_at else None,
        "closed_how": campaign.closed_how,
        "beneficiaries": [beneficiary_view(b) for b in beneficiaries],
        **totals_view(totals, campaign.goal),
    }


def campaign_views(session: Session, campaigns: list[Campaign]) -> list[dict]:
    ids = [campaign.id for campaign in campaigns]
    totals = totals_of(session, ids)
    beneficiaries = beneficiaries_of(session, ids)
    return [campaign_view(campaign, totals[campaign.id], beneficiaries[campaign.id])
            for campaign in campaigns]


# -- totals per organiser and per member ----------------------------------------------------------
def organiser_totals(session: Session, caller: Caller) -> list[dict]:
    """Per organiser org in the caller's subtree: its campaigns and their money, summed."""
    query = select(Campaign.id, Campaign.organiser_org_id)
    clause = TENANCY.org_column_in_scope(session, caller, Campaign.organiser_org_id)
    if clause is not None:
        query = query.where(clause)
    by_org: dict[str, list[str]] = {}
    for campaign_id, org_id in session.execute(query):
        by_org.setdefault(org_id, []).append(campaign_id)
    totals = totals_of(session, [cid for ids in by_org.values() for cid in ids])
    rows = []
    for org_id in sorted(by_org):
        parts = [totals[cid] for cid in by_org[org_id]]
        rows.append({
            "organiser_org_id": org_id, "campaign_count": len(parts),
            "cash_total": sum((t.cash_total for t in parts), ZERO),
            "goods_total": sum((t.goods_total for t in parts), ZERO),
            "cash_disbursed": sum((t.cash_disbursed for t in parts), ZERO),
            "cash_balance": sum((t.cash_balance for t in parts), ZERO),
            "donation_count": sum(t.donation_count for t in parts)})
    return rows


def member_giving(session: Session, caller: Caller, member_id) -> dict:
    """A member's gifts (voided ones left out) to the campaigns the caller sees, per campaign.
    The member must be visible to the caller (home or host subtree), else NotFound."""
    if not plausible_id(member_id) or caller.is_public \
            or not TENANCY.member_visible(session, caller, member_id):
        raise NotFound("member not found")
    query = (select(Donation.campaign_id, Campaign.title, Donation.kind, fen_sum(Donation.amount),
                    func.count())
             .join(Campaign, Campaign.id == Donation.campaign_id)
             .where(Donation.member_id == member_id, Donation.voided_at.is_(None))
             .group_by(Donation.campaign_id, Campaign.title, Donation.kind)
             .order_by(Donation.campaign_id))
    clause = TENANCY.org_column_in_scope(session, caller, Campaign.organiser_org_id)
    if clause is not None:
        query = query.where(clause)
    per_campaign: dict[str, dict] = {}
    for campaign_id, title, kind, fen, count in session.execute(query):
        row = per_campaign.setdefault(campaign_id, {
            "campaign_id": campaign_id, "title": title, "cash_total": ZERO,
            "goods_total": ZERO, "donation_count": 0})
        row["cash_total" if kind == CASH else "goods_total"] += yuan_from_fen(fen)
        row["donation_count"] += count
    campaigns = list(per_campaign.values())
    return {"member_id": member_id,
            "cash_total": sum((row["cash_total"] for row in campaigns), ZERO),
            "goods_total": sum((row["goods_total"] for row in campaigns), ZERO),
            "donation_count": sum(row["donation_count"] for row in campaigns),
            "campaigns": campaigns}
