"""A campaign's ledger (公示): every gift (voided ones too, with the reason), every disbursement,
the totals and the progress to the goal. The public version, readable without a key for a
campaign marked public, shows donors only as each chose (full name, masked, or anonymous),
carries no id of a member nor any name of a donor who chose otherwise, and lists only
disbursements that were paid. Also the ledger as a CSV or XLSX file. Plain Python."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.plumbing import exports
from services.plumbing.clock import china_date
from services.plumbing.money import to_wire
from services.plumbing.pagination import as_utc

from . import disbursements as disbursement_rules
from . import goods
from .campaigns import TENANCY, beneficiaries_of, beneficiary_view, totals_of, totals_view
from .gifts import items_of
from .models import Campaign, Donation

ANONYMOUS = "匿名"


def public_donor(donation: Donation) -> str:
    """The donor as the public sees them: as they chose. Unnamed donors are anonymous too."""
    if donation.anonymous or not donation.donor_name:
        return ANONYMOUS
    if donation.public_name == "name":
        return donation.donor_name
    return mask_name(donation.donor_name)


def mask_name(name: str) -> str:
    """张三丰 → 张**; Wang Fang → W********: the first character and one star per other."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else name + "*"


def gifts_page(session: Session, campaign: Campaign, after: int, limit: int):
    """Gifts in receipt order after receipt number `after`; (gifts, next `after` or None)."""
    rows = list(session.scalars(
        select(Donation).where(Donation.campaign_id == campaign.id, Donation.receipt_no > after)
        .order_by(Donation.receipt_no).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].receipt_no


def ledger(session: Session, campaign: Campaign, *, public: bool, after: int = 0,
           limit: int = 200) -> dict:
    gifts, next_after = gifts_page(session, campaign, after, limit)
    items = items_of(session, [gift.id for gift in gifts if gift.kind == "in_kind"])
    shown_disbursements = disbursement_rules.list_disbursements(
        session, campaign, ("paid",) if public else None)
    totals = totals_of(session, [campaign.id])[campaign.id]
    organiser = _org_name(session, campaign.organiser_org_id)
    return {
        "campaign": {
            "id": campaign.id, "title": campaign.title, "purpose": campaign.purpose,
            "organiser": organiser, "goal": campaign.goal, "opens_on": campaign.opens_on,
            "closes_on": campaign.closes_on, "status": campaign.status,
            "beneficiaries": [_beneficiary(b, public)
                              for b in beneficiaries_of(session, [campaign.id])[campaign.id]],
        },
        "totals": totals_view(totals, campaign.goal),
        "goods": goods.balances(session, campaign.id),
        "gifts": [_gift_entry(gift, items.get(gift.id, ()), public) for gift in gifts],
        "next_after": next_after,
        "disbursements": [_disbursement_entry(session, d, public) for d in shown_disbursements],
    }


def _org_name(session: Session, org_id: str) -> str | None:
    table = TENANCY.tables.org_units
    return session.scalar(select(table.c.name).where(table.c.org_id == org_id))


def _beneficiary(beneficiary, public: bool) -> dict:
    view = beneficiary_view(beneficiary)
    if public:
        del view["id"]
    return view


def _gift_entry(gift: Donation, items, public: bool) -> dict:
    entry = {
        "receipt_no": gift.receipt_no, "kind": gift.kind, "amount": gift.amount,
        "received_on": china_date(gift.received_at), "late": gift.late,
        "donor": public_donor(gift) if public else (
            None if gift.anonymous else gift.donor_name),
        "valued_by": gift.valued_by,
        "items": [{"name": i.name, "unit": i.unit, "quantity": i.quantity,
                   "valuation": i.valuation} for i in items],
        "voided": gift.voided_at is not None, "void_reason": gift.void_reason,
    }
    if not public:
        entry.update({"id": gift.id, "member_id": gift.member_id, "channel": gift.channel,
                      "anonymous": gift.anonymous, "batch_id": gift.batch_id,
                      "received_at": as_utc(gift.received_at)})
    return entry


def _disbursement_entry(session: Session, disbursement, public: bool) -> dict:
    view = disbursement_rules.disbursement_view(session, disbursement)
    if public:
        return {key: view[key] for key in ("kind", "amount", "items", "purpose", "status",
                                           "approver", "acknowledgement_ref", "disbursed_on")} \
            | {"beneficiary": _beneficiary_public(view["beneficiary"])}
    return view


def _beneficiary_public(view: dict) -> dict:
    return {key: view[key] for key in ("kind", "name", "county")}


# -- export ---------------------------------------------------------------------------------------
COLUMNS = ("entry", "receipt_no", "date", "kind", "donor", "member_id", "channel", "amount",
           "items", "valued_by", "late", "voided", "void_reason", "beneficiary", "status",
           "approver", "acknowledgement_ref")
FORMATS = exports.CONTENT_TYPES
EXPORT_PAGE = 1000


def export_rows(session: Session, campaign: Campaign):
    """Every gift and every disbursement as rows of COLUMNS (amounts as Decimal), then totals."""
    after = 0
    while after is not None:
        gifts, after = gifts_page(session, campaign, after, EXPORT_PAGE)
        items = items_of(session, [gift.id for gift in gifts if gift.kind == "in_kind"])
        for gift in gifts:
            yield ("gift", gift.receipt_no, china_date(gift.received_at).isoformat(), gift.kind,
                   None if gift.anonymous else gift.donor_name, gift.member_id, gift.channel,
                   gift.amount, _items_text(items.get(gift.id, ()), with_value=True),
                   gift.valued_by, _yes(gift.late), _yes(gift.voided_at is not None),
                   gift.void_reason, None, None, None, None)
    for d in disbursement_rules.list_disbursements(session, campaign):
        view = disbursement_rules.disbursement_view(session, d)
        beneficiary = view["beneficiary"]
        yield ("disbursement", None, d.disbursed_on.isoformat() if d.disbursed_on else None,
               d.kind, None, None, None, d.amount,
               _items_text(view["items"], with_value=False), None, None, None, None,
               f"{beneficiary['name']} ({beneficiary['county']})", d.status, d.approver,
               d.acknowledgement_ref)
    totals = totals_of(session, [campaign.id])[campaign.id]
    for label, amount in (("cash_total", totals.cash_total), ("goods_total", totals.goods_total),
                          ("cash_voided", totals.cash_voided),
                          ("cash_disbursed", totals.cash_disbursed),
                          ("cash_balance", totals.cash_balance)):
        yield (label,) + (None,) * 6 + (amount,) + (None,) * 9


def _items_text(items, with_value: bool) -> str | None:
    if not items:
        return None

    def get(item, key):
        return item[key] if isinstance(item, dict) else getattr(item, key)

    return "; ".join(
        f"{get(i, 'name')} {format(get(i, 'quantity'), 'f')} {get(i, 'unit')}"
        + (f" = {to_wire(get(i, 'valuation'))}" if with_value else "") for i in items)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def export(session: Session, campaign: Campaign, file_format: str) -> dict:
    """The ledger as a file, by the shared export writer (amounts as text exact to the fen)."""
    return exports.export_file(file_format, f"campaign-{campaign.id}-ledger", COLUMNS,
                               export_rows(session, campaign), sheet_title="ledger")
