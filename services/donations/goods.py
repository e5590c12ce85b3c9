"""Goods per item: an item is a (name, unit) pair within a campaign, e.g. ("N95 口罩", "箱").
What was received (in gifts not voided) less what is promised or handed out (approved and paid
disbursements) is what is left; it never goes below zero. Callers hold the campaign row lock,
which serialises every change to these numbers. Plain Python."""
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.plumbing.errors import Conflict

from .models import Disbursement, DisbursementItem, Donation, DonationItem

ZERO = Decimal("0.00")
# Disbursements whose goods are gone from the store, or promised.
COMMITTED = ("approved", "paid")


def item_key(name: str, unit: str) -> tuple[str, str]:
    return name.strip(), unit.strip()


def received(session: Session, campaign_id: str, *,
             leaving_out_donation: str | None = None) -> dict[tuple[str, str], Decimal]:
    query = (select(DonationItem.name, DonationItem.unit, func.sum(DonationItem.quantity))
             .join(Donation, Donation.id == DonationItem.donation_id)
             .where(DonationItem.campaign_id == campaign_id, Donation.voided_at.is_(None))
             .group_by(DonationItem.name, DonationItem.unit))
    if leaving_out_donation is not None:
        query = query.where(Donation.id != leaving_out_donation)
    return {(name, unit): _exact(quantity) for name, unit, quantity in session.execute(query)}


def committed(session: Session, campaign_id: str,
              statuses: tuple = COMMITTED) -> dict[tuple[str, str], Decimal]:
    query = (select(DisbursementItem.name, DisbursementItem.unit,
                    func.sum(DisbursementItem.quantity))
             .join(Disbursement, Disbursement.id == DisbursementItem.disbursement_id)
             .where(DisbursementItem.campaign_id == campaign_id,
                    Disbursement.status.in_(statuses))
             .group_by(DisbursementItem.name, DisbursementItem.unit))
    return {(name, unit): _exact(quantity) for name, unit, quantity in session.execute(query)}


def balances(session: Session, campaign_id: str) -> list[dict]:
    """Per item: received, handed out (paid), promised (approved) and left."""
    came_in = received(session, campaign_id)
    paid = committed(session, campaign_id, ("paid",))
    approved = committed(session, campaign_id, ("approved",))
    rows = []
    for key in sorted(set(came_in) | set(paid) | set(approved)):
        got, out, promised = (came_in.get(key, ZERO), paid.get(key, ZERO),
                              approved.get(key, ZERO))
        rows.append({"name": key[0], "unit": key[1], "received": got, "disbursed": out,
                     "reserved": promised, "left": got - out - promised})
    return rows


def shortfalls(session: Session, campaign_id: str,
               wanted: dict[tuple[str, str], Decimal]) -> dict[str, list[str]]:
    """Items of `wanted` that are not left in the store, as field messages."""
    came_in = received(session, campaign_id)
    gone = committed(session, campaign_id)
    problems = {}
    for index, (key, quantity) in enumerate(wanted.items()):
        left = came_in.get(key, ZERO) - gone.get(key, ZERO)
        if quantity > left:
            problems[f"items.{index}.quantity"] = [
                f"{format(quantity, 'f')} {key[1]} of {key[0]} wanted, {format(left, 'f')} left"]
    return problems


def check_void_leaves_enough(session: Session, campaign_id: str, donation_id: str) -> None:
    """A gift of goods cannot be voided when its goods are already promised or handed out."""
    without = received(session, campaign_id, leaving_out_donation=donation_id)
    gone = committed(session, campaign_id)
    short = {key: quantity for key, quantity in gone.items()
             if quantity > without.get(key, ZERO)}
    if short:
        raise Conflict("goods of this gift are already promised or handed out", {
            "items": [f"{key[0]} ({key[1]}): {format(quantity, 'f')} promised or handed out"
                      for key, quantity in sorted(short.items())]})


def _exact(quantity) -> Decimal:
    """Quantities have two places; SQLite may hand back a float-ish sum, so round to them."""
    return Decimal(str(quantity or 0)).quantize(Decimal("0.01"))
