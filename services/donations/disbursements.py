"""Disbursements: cash or goods handed to a campaign's beneficiary. Requested, then approved
(which promises the money or goods: never more than is left, also under concurrent requests,
since every step holds the campaign row lock), then paid with the recipient's acknowledgement
reference (which emits `disbursement_made`); or rejected before payment. Plain Python."""
import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.ids import plausible_id
from services.plumbing.money import to_wire
from services.plumbing.pagination import as_utc
from services.plumbing.text import with_article

from . import events, goods
from .campaigns import CASH, CLOSED, OPEN, get_visible_campaign
from .models import Beneficiary, Campaign, Disbursement, DisbursementItem

GOODS = "goods"
KINDS = (CASH, GOODS)
REQUESTED, APPROVED, PAID, REJECTED = "requested", "approved", "paid", "rejected"


def request_disbursement(tx: Transaction, caller: Caller, campaign_id, data: dict) -> Disbursement:
    session = tx.session
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    if campaign.status not in (OPEN, CLOSED):
        raise InvalidTransition(f"{with_article(campaign.status)} campaign hands nothing out",
                                {"status": [f"is {campaign.status}"]})
    beneficiary = session.get(Beneficiary, data["beneficiary_id"])
    if beneficiary is None or beneficiary.campaign_id != campaign.id:
        raise ValidationFailed("invalid input",
                               {"beneficiary_id": ["not a beneficiary of this campaign"]})
    wanted = _wanted(data["items"]) if data["kind"] == GOODS else {}
    if wanted:
        unknown = set(wanted) - set(goods.received(session, campaign.id))
        if unknown:
            raise ValidationFailed("invalid input", {"items": [
                f"{name} ({unit}) was never received in this campaign"
                for name, unit in sorted(unknown)]})
    # Refused now rather than left `requested` until an approval that must refuse it; the
    # approval checks again (and reserves), since gifts may be voided and others approved.
    _require_available(session, campaign, data["kind"], data.get("amount"), wanted)
    disbursement = Disbursement(
        id=str(uuid.uuid4()), campaign_id=campaign.id, beneficiary_id=beneficiary.id,
        kind=data["kind"], amount=data["amount"] if data["kind"] == CASH else None,
        purpose=data["purpose"].strip(), status=REQUESTED, requested_by_key=caller.key_id,
        requested_at=utcnow())
    session.add(disbursement)
    session.flush()  # before its lines, which refer to it
    for (name, unit), quantity in wanted.items():
        session.add(DisbursementItem(id=str(uuid.uuid4()), disbursement_id=disbursement.id,
                                     campaign_id=campaign.id, name=name, unit=unit,
                                     quantity=quantity))
    session.flush()
    return disbursement


def _require_available(session: Session, campaign: Campaign, kind: str, amount, wanted: dict):
    """409 when the campaign has not that much cash (not yet promised) or those goods left."""
    if kind == CASH:
        available = campaign.cash_balance - campaign.cash_reserved
        if amount > available:
            raise Conflict("not enough cash left in the campaign", {
                "amount": [f"{to_wire(amount)} exceeds the cash available "
                           f"({to_wire(available)})"]})
    else:
        problems = goods.shortfalls(session, campaign.id, wanted)
        if problems:
            raise Conflict("not enough goods left in the campaign", problems)


def approve_disbursement(tx: Transaction, caller: Caller, campaign_id, disbursement_id,
                         approver: str) -> Disbursement:
    """Promises the cash or goods: refused (409) when not enough is left of what came in."""
    session = tx.session
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    disbursement = _disbursement_of(session, campaign, disbursement_id)
    _require(disbursement, (REQUESTED,), "only a requested disbursement can be approved")
    wanted = {(line.name, line.unit): line.quantity for line in lines_of(session, disbursement.id)}
    _require_available(session, campaign, disbursement.kind, disbursement.amount, wanted)
    if disbursement.kind == CASH:
        campaign.cash_reserved += disbursement.amount
    disbursement.status = APPROVED
    disbursement.approver = approver.strip()
    disbursement.approved_by_key = caller.key_id
    disbursement.approved_at = utcnow()
    session.flush()
    return disbursement


def pay_disbursement(tx: Transaction, caller: Caller, campaign_id, disbursement_id,
                     data: dict) -> Disbursement:
    """Hands over what was approved, with the recipient's acknowledgement reference."""
    session = tx.session
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    disbursement = _disbursement_of(session, campaign, disbursement_id)
    _require(disbursement, (APPROVED,), "only an approved disbursement can be paid")
    if disbursement.kind == CASH:
        campaign.cash_reserved -= disbursement.amount
        campaign.cash_balance -= disbursement.amount
    disbursement.status = PAID
    disbursement.acknowledgement_ref = data["acknowledgement_ref"].strip()
    disbursement.disbursed_on = data["disbursed_on"]
    disbursement.paid_at = utcnow()
    session.flush()
    tx.emit(events.disbursement_made(disbursement, campaign,
                                     session.get(Beneficiary, disbursement.beneficiary_id),
                                     lines_of(session, disbursement.id)))
    return disbursement


def reject_disbursement(tx: Transaction, caller: Caller, campaign_id, disbursement_id,
                        reason: str) -> Disbursement:
    """Refuses a request, or withdraws an approval before payment (releasing what it promised)."""
    session = tx.session
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    disbursement = _disbursement_of(session, campaign, disbursement_id)
    _require(disbursement, (REQUESTED, APPROVED), "a paid disbursement cannot be rejected")
    if disbursement.status == APPROVED and disbursement.kind == CASH:
        campaign.cash_reserved -= disbursement.amount
    disbursement.status = REJECTED
    disbursement.rejected_reason = reason.strip()
    session.flush()
    return disbursement


def list_disbursements(session: Session, campaign: Campaign,
                       statuses: tuple | None = None) -> list[Disbursement]:
    query = select(Disbursement).where(Disbursement.campaign_id == campaign.id)
    if statuses:
        query = query.where(Disbursement.status.in_(statuses))
    return list(session.scalars(query.order_by(Disbursement.requested_at, Disbursement.id)))


def lines_of(session: Session, disbursement_id: str) -> list[DisbursementItem]:
    return list(session.scalars(select(DisbursementItem).where(
        DisbursementItem.disbursement_id == disbursement_id).order_by(DisbursementItem.name,
                                                                      DisbursementItem.unit)))


def disbursement_view(session: Session, disbursement: Disbursement) -> dict:
    beneficiary = session.get(Beneficiary, disbursement.beneficiary_id)
    return {
        "id": disbursement.id, "campaign_id": disbursement.campaign_id,
        "beneficiary": {"id": beneficiary.id, "kind": beneficiary.kind,
                        "name": beneficiary.name, "county": beneficiary.county},
        "kind": disbursement.kind, "amount": disbursement.amount,
        "items": [{"name": i.name, "unit": i.unit, "quantity": i.quantity}
                  for i in lines_of(session, disbursement.id)],
        "purpose": disbursement.purpose, "status": disbursement.status,
        "requested_at": as_utc(disbursement.requested_at),
        "approver": disbursement.approver,
        "approved_at": as_utc(disbursement.approved_at) if disbursement.approved_at else None,
        "acknowledgement_ref": disbursement.acknowledgement_ref,
        "disbursed_on": disbursement.disbursed_on,
        "paid_at": as_utc(disbursement.paid_at) if disbursement.paid_at else None,
        "rejected_reason": disbursement.rejected_reason,
    }


def _wanted(items: list[dict]) -> dict[tuple[str, str], Decimal]:
    """The lines of a goods disbursement, the same item on two lines added up."""
    wanted: dict[tuple[str, str], Decimal] = {}
    for item in items:
        key = goods.item_key(item["name"], item["unit"])
        wanted[key] = wanted.get(key, Decimal("0.00")) + item["quantity"]
    return wanted


def _disbursement_of(session: Session, campaign: Campaign, disbursement_id) -> Disbursement:
    found = session.get(Disbursement, disbursement_id) if plausible_id(disbursement_id) else None
    if found is None or found.campaign_id != campaign.id:
        raise NotFound("disbursement not found")
    return found


def _require(disbursement: Disbursement, allowed: tuple, message: str) -> None:
    if disbursement.status not in allowed:
        raise InvalidTransition(message, {"status": [f"is {disbursement.status}"]})
