"""Reconciliation: for every campaign, received − voided − disbursed = balance, checked from the
ledger rows themselves against the running balance the service keeps; goods never below zero
per item; receipts 1..n without gaps; batches as declared; goods gifts worth their items.

    python -m services.donations.reconcile                      # every campaign
    python -m services.donations.reconcile --campaign <id>      # one
    python -m services.donations.reconcile --database-url postgresql+psycopg2://…

Prints one line per campaign and exits 1 if any campaign does not reconcile (0 otherwise).
"""
import argparse
import sys
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .campaigns import CASH, IN_KIND, fen_sum, yuan_from_fen
from .goods import balances
from .models import Campaign, Disbursement, Donation, DonationBatch, DonationItem

ZERO = Decimal("0.00")


@dataclass
class Reconciliation:
    campaign_id: str
    received: Decimal = ZERO
    voided: Decimal = ZERO
    disbursed: Decimal = ZERO
    balance: Decimal = ZERO          # as the service keeps it
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH: " + "; ".join(self.problems)
        return (f"{self.campaign_id} received {self.received} - voided {self.voided} - "
                f"disbursed {self.disbursed} = balance {self.balance}: {verdict}")


def reconcile_campaign(session: Session, campaign: Campaign) -> Reconciliation:
    result = Reconciliation(campaign.id, balance=Decimal(campaign.cash_balance).quantize(ZERO))
    gifts = list(session.execute(
        select(Donation.id, Donation.kind, Donation.amount, Donation.voided_at,
               Donation.receipt_no, Donation.batch_id)
        .where(Donation.campaign_id == campaign.id)))
    # Summed in Python, row by row, as Decimals: independent of the SQL sums the service shows.
    cash = [gift for gift in gifts if gift.kind == CASH]
    result.received = sum((Decimal(g.amount).quantize(ZERO) for g in cash), ZERO)
    result.voided = sum((Decimal(g.amount).quantize(ZERO) for g in cash if g.voided_at), ZERO)
    paid_cash = [Decimal(amount).quantize(ZERO) for amount, status in session.execute(
        select(Disbursement.amount, Disbursement.status).where(
            Disbursement.campaign_id == campaign.id, Disbursement.kind == CASH))
        if status == "paid"]
    result.disbursed = sum(paid_cash, ZERO)
    reserved = sum((Decimal(amount).quantize(ZERO) for (amount,) in session.execute(
        select(Disbursement.amount).where(Disbursement.campaign_id == campaign.id,
                                          Disbursement.kind == CASH,
                                          Disbursement.status == "approved"))), ZERO)

    expected = result.received - result.voided - result.disbursed
    if expected != result.balance:
        result.problems.append(f"the ledger gives a balance of {expected}, the campaign "
                               f"holds {result.balance}")
    sql_received = yuan_from_fen(session.scalar(select(fen_sum(Donation.amount)).where(
        Donation.campaign_id == campaign.id, Donation.kind == CASH)))
    if sql_received != result.received:
        result.problems.append(f"SQL sums the cash to {sql_received}, the rows to "
                               f"{result.received}")
    if Decimal(campaign.cash_reserved).quantize(ZERO) != reserved:
        result.problems.append(f"reserved {campaign.cash_reserved} but approved unpaid cash "
                               f"is {reserved}")
    if result.balance < 0 or reserved > result.balance:
        result.problems.append(f"overdrawn: balance {result.balance}, promised {reserved}")
    for item in balances(session, campaign.id):
        if item["left"] < 0:
            result.problems.append(f"goods overdrawn: {item['name']} ({item['unit']}) "
                                   f"left {item['left']}")

    numbers = sorted(gift.receipt_no for gift in gifts)
    if numbers != list(range(1, campaign.receipts_issued + 1)):
        result.problems.append(f"receipt numbers are not 1..{campaign.receipts_issued} "
                               f"without gaps or repeats")
    _check_goods_gifts(session, campaign, gifts, result)
    _check_batches(session, campaign, gifts, result)
    return result


def _check_goods_gifts(session, campaign, gifts, result) -> None:
    valuations: dict[str, Decimal] = {}
    for donation_id, valuation in session.execute(
            select(DonationItem.donation_id, DonationItem.valuation)
            .where(DonationItem.campaign_id == campaign.id)):
        valuations[donation_id] = valuations.get(donation_id, ZERO) + _yuan(valuation)
    for gift in gifts:
        if gift.kind == IN_KIND and valuations.get(gift.id, ZERO) != _yuan(gift.amount):
            result.problems.append(f"goods gift {gift.receipt_no} is worth {gift.amount} but "
                                   f"its items add up to {valuations.get(gift.id, ZERO)}")


def _check_batches(session, campaign, gifts, result) -> None:
    for batch in session.scalars(select(DonationBatch).where(
            DonationBatch.campaign_id == campaign.id)):
        mine = [gift for gift in gifts if gift.batch_id == batch.id]
        total = sum((Decimal(g.amount).quantize(ZERO) for g in mine), ZERO)
        if len(mine) != batch.declared_count or total != _yuan(batch.declared_total):
            result.problems.append(f"batch {batch.reference!r} declares {batch.declared_count} "
                                   f"gifts, {batch.declared_total}; holds {len(mine)}, {total}")


def _yuan(amount) -> Decimal:
    """An amount as read back (SQLite hands NUMERIC back through a float), exact to the fen."""
    return Decimal(amount).quantize(ZERO)


def reconcile_all(session: Session, campaign_id: str | None = None) -> list[Reconciliation]:
    query = select(Campaign).order_by(Campaign.created_at, Campaign.id)
    if campaign_id:
        query = query.where(Campaign.id == campaign_id)
    return [reconcile_campaign(session, campaign) for campaign in session.scalars(query)]


def main(argv=None) -> int:
    from services.plumbing import config
    from services.plumbing.db import is_postgresql, make_engine

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None,
                        help="default: DONATIONS_DATABASE_URL, else var/donations.db")
    parser.add_argument("--campaign", default=None, help="only this campaign id")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url or config.database_url("donations"))
    bind = engine
    if is_postgresql(engine):
        # One snapshot for every query: gifts arriving meanwhile must not look like a mismatch.
        bind = engine.execution_options(isolation_level="REPEATABLE READ")
    try:
        with Session(bind) as session:
            results = reconcile_all(session, args.campaign)
    finally:
        engine.dispose()
    for result in results:
        print(result.line())
    if args.campaign and not results:
        print(f"no campaign {args.campaign}", file=sys.stderr)
        return 2
    mismatches = sum(1 for result in results if not result.ok)
    print(f"{len(results)} campaign(s), {mismatches} mismatch(es)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
