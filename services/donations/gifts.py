"""Gifts: cash and goods, one at a time or a whole paper list at once; recorded once per request,
numbered without gaps, never refused for lateness, voided (never deleted) when entered wrongly.
Plain Python: the entrypoints pass a Transaction (session + emit)."""
import hashlib
import json
import uuid
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.clock import china_date
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from services.plumbing.ids import plausible_id
from services.plumbing.money import LARGEST, to_wire
from services.plumbing.pagination import as_utc
from services.plumbing.text import with_article
from services.plumbing.together import RowUpdate, insert_new, write_each

from . import events, goods
from .campaigns import CASH, CLOSED, DRAFT, IN_KIND, SETTLED, count_gift, get_visible_campaign
from .models import TENANCY, Campaign, Donation, DonationBatch, DonationItem, DonationRequestKey

CHANNELS = ("cash", "bank_transfer", "wechat", "alipay", "other")
PUBLIC_NAME_CHOICES = ("name", "masked")
DEFAULT_MAX_AMOUNT = Decimal("10000000.00")

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 200
# Keys are scoped per org unit of the caller; platform-wide callers have none and share one.
PLATFORM_SCOPE = "platform"


def record_donation(tx: Transaction, caller: Caller, campaign_id, data: dict,
                    idempotency_key: str | None) -> tuple[Donation, bool]:
    """Records a cash gift (`data` as DonationCreateSchema loads it) and emits
    `donation_received`. With an idempotency key seen before, returns the gift that key
    recorded instead. Returns (donation, replayed)."""
    return _record_one(tx, caller, campaign_id, data, idempotency_key, CASH)


def record_in_kind_donation(tx: Transaction, caller: Caller, campaign_id, data: dict,
                            idempotency_key: str | None) -> tuple[Donation, bool]:
    """Records a gift of goods: its items, each valued in yuan by `valued_by`. Its amount is the
    sum of the valuations; it counts towards the goods total, never the cash."""
    return _record_one(tx, caller, campaign_id, data, idempotency_key, IN_KIND)


def _record_one(tx, caller, campaign_id, data, idempotency_key, kind):
    _check_key(idempotency_key)
    session = tx.session
    request_hash = _fingerprint(campaign_id, kind, data)
    if idempotency_key is not None and not _claim_key(session, caller, idempotency_key,
                                                      request_hash):
        return _earlier_gift(session, caller, campaign_id, idempotency_key, request_hash), True
    # Gifts to one campaign queue for its row lock, from count_gift to the COMMIT: what can be
    # done before it is, and under it the gift's rows go in one round trip.
    received_at = utcnow()  # when it came in, not when its turn for the lock came
    try:
        donor_name = _donor_name(session, caller, data)
        amount = _gift_amount(data, kind)
    except ValidationFailed:
        # A campaign not found, or taking no gifts, says so first, as it always has.
        _require_taking_gifts(get_visible_campaign(session, caller, campaign_id, lock=True).status)
        raise
    donation = _new_gift(campaign_id, data, kind, amount, donor_name, received_at, batch_id=None)
    counted = count_gift(session, caller, campaign_id, amount if kind == CASH else None)
    _require_taking_gifts(counted.status)
    _number(donation, counted.receipts_issued, counted.status, counted.closes_on)
    # The gift, its goods, its key's note of it and its event: one round trip under the lock.
    writes = [(Donation.__table__, _gift_row(donation))]
    writes += [(DonationItem.__table__, row) for row in _item_rows(donation, data.get("items", ()))]
    if idempotency_key is not None:
        writes.append(_key_settled(caller, idempotency_key, donation_id=donation.id))
    if kind == CASH:
        tx.write_and_emit(writes, events.donation_received(donation))
    else:
        write_each(session, writes)
    return donation, False


def record_batch(tx: Transaction, caller: Caller, campaign_id, data: dict,
                 idempotency_key: str | None) -> tuple[DonationBatch, list[Donation], bool]:
    """Offline cash gifts from a paper list: accepted whole when the declared count and total
    match the gifts entered, else refused whole (nothing written). Receipt numbers run on
    without gaps in the order of the list."""
    _check_key(idempotency_key)
    session = tx.session
    request_hash = _fingerprint(campaign_id, "batch", data)
    if idempotency_key is not None and not _claim_key(session, caller, idempotency_key,
                                                      request_hash):
        get_visible_campaign(session, caller, campaign_id)  # NotFound first, as it always was
        earlier = _earlier_request(session, caller, idempotency_key, request_hash)
        if earlier.batch_id is None:
            raise _key_reused()
        batch = session.get(DonationBatch, earlier.batch_id)
        return batch, batch_gifts(session, batch.id), True
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    _require_taking_gifts(campaign.status)
    reference = data["reference"].strip()
    # A paper list posted twice without an Idempotency-Key would count every gift twice; the
    # campaign row lock taken above makes this check safe against a concurrent second post.
    if not data.get("different_list") and session.scalar(
            select(DonationBatch.id).where(DonationBatch.campaign_id == campaign.id,
                                           DonationBatch.reference == reference).limit(1)):
        raise Conflict("a batch with this reference was already recorded for this campaign",
                       {"reference": ["already recorded for this campaign; send "
                                      "\"different_list\": true if this is another list"]})
    entered_total = sum((gift["amount"] for gift in data["gifts"]), Decimal("0.00"))
    problems = {}
    if len(data["gifts"]) != data["declared_count"]:
        problems["declared_count"] = [
            f"declares {data['declared_count']} gifts but {len(data['gifts'])} were entered"]
    if entered_total != data["declared_total"]:
        problems["declared_total"] = [
            f"declares {to_wire(data['declared_total'])} but the gifts add up to "
            f"{to_wire(entered_total)}"]
    if problems:
        raise ValidationFailed("the batch does not match its declared count and total",
                               problems)
    batch = DonationBatch(id=str(uuid.uuid4()), campaign_id=campaign.id,
                          reference=reference,
                          declared_count=data["declared_count"],
                          declared_total=data["declared_total"], created_at=utcnow())
    gifts = []
    for index, gift in enumerate(data["gifts"]):
        try:
            donor_name = _donor_name(session, caller, gift)
        except ValidationFailed as exc:
            # One bad line refuses the whole list; say which line.
            raise ValidationFailed("invalid input", {
                f"gifts.{index}.{field}": messages for field, messages in exc.fields.items()}) from None
        gifts.append(_new_gift(campaign.id, gift, CASH, gift["amount"], donor_name, utcnow(),
                               batch_id=batch.id))
    for donation in gifts:
        campaign.receipts_issued += 1
        _number(donation, campaign.receipts_issued, campaign.status, campaign.closes_on)
    campaign.cash_balance += entered_total
    session.add(batch)
    session.flush()  # the batch before its gifts, and the campaign's new counter and balance
    _insert_gifts(session, gifts)
    tx.emit_all([events.donation_received(donation) for donation in gifts])
    if idempotency_key is not None:
        write_each(session, [_key_settled(caller, idempotency_key, batch_id=batch.id)])
    return batch, gifts, False


def void_donation(tx: Transaction, caller: Caller, campaign_id, donation_id,
                  reason: str) -> Donation:
    """Voids a wrong entry: it stays in the ledger with the reason, and leaves the totals.
    Money or goods already handed out cannot be voided away (409)."""
    session = tx.session
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    donation = _gift_of(session, campaign, donation_id)
    if campaign.status == SETTLED:
        raise InvalidTransition("a settled campaign's ledger is final",
                                {"status": [f"is {campaign.status}"]})
    if donation.voided_at is not None:
        raise InvalidTransition("this gift is already voided", {"voided_at": ["already set"]})
    if donation.kind == CASH:
        available = campaign.cash_balance - campaign.cash_reserved
        if donation.amount > available:
            raise Conflict("the cash of this gift is already promised or handed out", {
                "amount": [f"{to_wire(donation.amount)} exceeds the cash available "
                           f"({to_wire(available)})"]})
        campaign.cash_balance -= donation.amount
    else:
        goods.check_void_leaves_enough(session, campaign.id, donation.id)
    donation.voided_at = utcnow()
    donation.void_reason = reason.strip()
    session.flush()
    if donation.kind == CASH:
        tx.emit(events.donation_voided(donation))
    return donation


def get_donation(session: Session, caller: Caller, campaign_id, donation_id) -> Donation:
    """One gift (its receipt) of a campaign in the caller's subtree."""
    return _gift_of(session, get_visible_campaign(session, caller, campaign_id), donation_id)


def _require_taking_gifts(status: str) -> None:
    """Open and closed campaigns take gifts (closed ones as late gifts, never refused); a draft
    has not started, and a settled campaign's ledger is final."""
    if status in (DRAFT, SETTLED):
        raise InvalidTransition(f"{with_article(status)} campaign takes no gifts",
                                {"status": [f"is {status}"]})


def _gift_amount(data: dict, kind: str) -> Decimal:
    if kind == CASH:
        return data["amount"]
    amount = sum((item["valuation"] for item in data["items"]), Decimal("0.00"))
    if amount > LARGEST:
        raise ValidationFailed("invalid input", {"items": ["valuations add up to too much"]})
    return amount


def _new_gift(campaign_id: str, data: dict, kind: str, amount: Decimal, donor_name: str | None,
              received_at, batch_id: str | None) -> Donation:
    """The gift as it will be stored, but for its receipt number and lateness (_number)."""
    return Donation(
        id=str(uuid.uuid4()), campaign_id=campaign_id, receipt_no=None, amount=amount,
        kind=kind, valued_by=data.get("valued_by"), member_id=data["member_id"],
        donor_name=donor_name, anonymous=data["anonymous"], public_name=data["public_name"],
        channel=data.get("channel", "other") if kind == CASH else "goods", late=None,
        received_at=received_at, batch_id=batch_id, voided_at=None, void_reason=None)


def _number(donation: Donation, receipt_no: int, status: str, closes_on) -> None:
    """Its receipt number and lateness, from the campaign as it stands under its row lock."""
    donation.receipt_no = receipt_no
    donation.late = china_date(donation.received_at) > closes_on or status == CLOSED


DONATION_COLUMNS = tuple(column.key for column in Donation.__table__.columns)
_INSERT_DONATIONS = insert(Donation.__table__)


def _insert_gifts(session: Session, donations: list[Donation]) -> None:
    """A Core INSERT of a list's gifts (no unit of work to flush). The Donation objects stay
    outside the session, complete, for the reply."""
    session.connection().execute(_INSERT_DONATIONS, [_gift_row(donation) for donation in donations])


def _gift_row(donation: Donation) -> dict:
    return {key: getattr(donation, key) for key in DONATION_COLUMNS}


def _item_rows(donation: Donation, items) -> list[dict]:
    """The goods of a gift in kind, numbered in the order given."""
    return [{"id": str(uuid.uuid4()), "donation_id": donation.id,
             "campaign_id": donation.campaign_id, "line_no": line_no,
             "name": item["name"].strip(), "unit": item["unit"].strip(),
             "quantity": item["quantity"], "valuation": item["valuation"]}
            for line_no, item in enumerate(items, start=1)]


def _gift_of(session: Session, campaign: Campaign, donation_id) -> Donation:
    donation = session.get(Donation, donation_id) if plausible_id(donation_id) else None
    if donation is None or donation.campaign_id != campaign.id:
        raise NotFound("gift not found")
    return donation


def batch_gifts(session: Session, batch_id: str) -> list[Donation]:
    return list(session.scalars(select(Donation).where(Donation.batch_id == batch_id)
                                .order_by(Donation.receipt_no)))


def items_of(session: Session, donation_ids: list[str]) -> dict[str, list[DonationItem]]:
    found = {donation_id: [] for donation_id in donation_ids}
    if donation_ids:
        for item in session.scalars(select(DonationItem).where(
                DonationItem.donation_id.in_(donation_ids)).order_by(DonationItem.line_no)):
            found[item.donation_id].append(item)
    return found


def item_view(item: DonationItem) -> dict:
    return {"name": item.name, "unit": item.unit, "quantity": item.quantity,
            "valuation": item.valuation}


def donation_view(donation: Donation, replayed: bool = False,
                  items: list[DonationItem] = ()) -> dict:
    return {
        "id": donation.id, "campaign_id": donation.campaign_id, "receipt_no": donation.receipt_no,
        "kind": donation.kind, "amount": donation.amount, "member_id": donation.member_id,
        "donor": None if donation.anonymous else donation.donor_name,
        "anonymous": donation.anonymous, "public_name": donation.public_name,
        "late": donation.late, "channel": donation.channel,
        "received_at": as_utc(donation.received_at), "batch_id": donation.batch_id,
        "valued_by": donation.valued_by, "items": [item_view(item) for item in items],
        "voided": donation.voided_at is not None,
        "voided_at": as_utc(donation.voided_at) if donation.voided_at else None,
        "void_reason": donation.void_reason, "replayed": replayed,
    }


def donation_views(session: Session, donations: list[Donation], replayed: bool = False):
    items = items_of(session, [d.id for d in donations if d.kind == IN_KIND])
    return [donation_view(d, replayed, items.get(d.id, ())) for d in donations]


def _donor_name(session: Session, caller: Caller, data: dict) -> str | None:
    """The name a receipt carries: the member's (as the caller may see it) or the one given."""
    if data["member_id"] is None:
        return data["donor_name"].strip() if data["donor_name"] else None
    if not TENANCY.member_visible(session, caller, data["member_id"]):
        raise ValidationFailed("invalid input", {"member_id": ["no such member in your scope"]})
    return TENANCY.member(session, data["member_id"]).name


# -- idempotency keys ---------------------------------------------------------------------------
def _check_key(key) -> None:
    if key is not None and not (isinstance(key, str) and 1 <= len(key) <= KEY_MAX_LENGTH):
        raise ValidationFailed("invalid input", {
            KEY_HEADER: [f"must be a string of 1 to {KEY_MAX_LENGTH} characters"]})


def _key_scope(caller: Caller) -> str:
    return caller.org_id or PLATFORM_SCOPE


def _key_reused() -> Conflict:
    return Conflict(f"this {KEY_HEADER} was used for a different request",
                    {KEY_HEADER: ["was used for a different request"]})


def _claim_key(session: Session, caller: Caller, key: str, request_hash: str) -> bool:
    """Takes the key for this request before anything else (and before the campaign's row
    lock, in every request that takes both): True if it is ours. False if a request has
    recorded it; one still running holds it, and this waits for its COMMIT (PostgreSQL on the
    primary key, SQLite on the write lock), then finds it, or takes it if that one rolled back.
    What the request recorded is noted on it by _key_settled's write, once it exists."""
    return bool(insert_new(session, _KEYS, [{
        "scope": _key_scope(caller), "key": key, "request_hash": request_hash,
        "donation_id": None, "batch_id": None, "created_at": utcnow()}],
        key=("scope", "key"), returning="key"))


_KEYS = DonationRequestKey.__table__


def _key_settled(caller: Caller, key: str, donation_id: str | None = None,
                 batch_id: str | None = None) -> RowUpdate:
    """The write that notes on a claimed key what its request recorded."""
    return RowUpdate(_KEYS, {"scope": _key_scope(caller), "key": key},
                     {"donation_id": donation_id, "batch_id": batch_id})


def _earlier_gift(session: Session, caller: Caller, campaign_id, key: str,
                  request_hash: str) -> Donation:
    """The gift an earlier request with this key recorded; 409 if that was another request."""
    get_visible_campaign(session, caller, campaign_id)  # NotFound first, as it always was
    earlier = _earlier_request(session, caller, key, request_hash)
    if earlier.donation_id is None:
        raise _key_reused()
    return session.get(Donation, earlier.donation_id)


def _earlier_request(session: Session, caller: Caller, key: str,
                     request_hash: str) -> DonationRequestKey:
    """The request that recorded this idempotency key (_claim_key found it); 409 if it was
    another one."""
    earlier = session.get(DonationRequestKey, (_key_scope(caller), key))
    if earlier.request_hash != request_hash:
        raise _key_reused()
    return earlier


def _fingerprint(campaign_id: str, kind: str, data: dict) -> str:
    """SHA-256 of the canonical JSON of the request: the campaign and the body as loaded, so
    that "5" and "5.00", or an omitted default and the default itself, are the same request.
    A cash gift keeps the fingerprint it had before other kinds of request existed."""
    request = {"campaign_id": campaign_id, "body": data}
    if kind != CASH:
        request["kind"] = kind
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=to_wire)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
