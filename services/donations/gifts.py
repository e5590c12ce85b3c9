"""Cash gifts: recorded once per request, numbered without gaps, never refused for lateness.
Plain Python: the entrypoints pass a Transaction (session + emit)."""
import hashlib
import json
import uuid
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.plumbing.caller import Caller
from services.plumbing.db import Transaction
from services.plumbing.envelope import utcnow
from services.plumbing.errors import Conflict, ValidationFailed
from services.plumbing.money import to_wire
from services.plumbing.pagination import as_utc

from . import events
from .campaigns import day_in_china, get_visible_campaign
from .models import TENANCY, Donation, DonationRequestKey

CHANNELS = ("cash", "bank_transfer", "wechat", "alipay", "other")
DEFAULT_MAX_AMOUNT = Decimal("10000000.00")

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 200
# Keys are scoped per org unit of the caller; platform-wide callers have none and share one.
PLATFORM_SCOPE = "platform"


def record_donation(tx: Transaction, caller: Caller, campaign_id, data: dict,
                    idempotency_key: str | None) -> tuple[Donation, bool]:
    """Records a gift (`data` as DonationCreateSchema loads it) and emits `donation_received`.
    With an idempotency key seen before, returns the gift that key recorded instead.
    Returns (donation, replayed)."""
    _check_key(idempotency_key)
    session = tx.session
    # The row lock serialises gifts to this campaign: the receipt counter, and a retry of a
    # request waiting for its first attempt, which then finds that attempt's key.
    campaign = get_visible_campaign(session, caller, campaign_id, lock=True)
    request_hash = _fingerprint(campaign.id, data)
    if idempotency_key is not None:
        earlier = session.get(DonationRequestKey, (_key_scope(caller), idempotency_key))
        if earlier is not None:
            if earlier.request_hash != request_hash:
                raise _key_reused()
            return session.get(Donation, earlier.donation_id), True

    received_at = utcnow()
    campaign.receipts_issued += 1
    donation = Donation(
        id=str(uuid.uuid4()), campaign_id=campaign.id, receipt_no=campaign.receipts_issued,
        amount=data["amount"], member_id=data["member_id"],
        donor_name=_donor_name(session, caller, data), anonymous=data["anonymous"],
        channel=data["channel"], late=day_in_china(received_at) > campaign.closes_on,
        received_at=received_at)
    session.add(donation)
    session.flush()
    if idempotency_key is not None:
        _remember_key(session, caller, idempotency_key, request_hash, donation)
    tx.emit(events.donation_received(donation))
    return donation, False


def donation_view(donation: Donation, replayed: bool) -> dict:
    return {
        "id": donation.id, "campaign_id": donation.campaign_id, "receipt_no": donation.receipt_no,
        "amount": donation.amount, "member_id": donation.member_id,
        "donor": None if donation.anonymous else donation.donor_name,
        "anonymous": donation.anonymous, "late": donation.late, "channel": donation.channel,
        "received_at": as_utc(donation.received_at), "replayed": replayed,
    }


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


def _fingerprint(campaign_id: str, data: dict) -> str:
    """SHA-256 of the canonical JSON of the request: the campaign and the body as loaded, so
    that "5" and "5.00", or an omitted default and the default itself, are the same request."""
    canonical = json.dumps({"campaign_id": campaign_id, "body": data}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=to_wire)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _remember_key(session: Session, caller: Caller, key: str, request_hash: str,
                  donation: Donation) -> None:
    session.add(DonationRequestKey(scope=_key_scope(caller), key=key, request_hash=request_hash,
                                   donation_id=donation.id, created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:
        # Only possible on PostgreSQL, for the same key sent at once for two campaigns (two
        # different requests, since the campaign is part of the fingerprint).
        raise _key_reused()
