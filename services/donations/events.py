"""The donations service's event contract: what it publishes and what it consumes.

Published (exchange `donations.events`, routing key = event type):
    campaign_opened     v1   a campaign was created and takes gifts
    donation_received   v1   a cash gift was recorded (amount: decimal string, exact to the fen)
    donation_voided     v1   a cash gift was voided (a wrong entry): the reverse of its
                             donation_received; a member's giving total must drop by `amount`
    campaign_closed     v1   a campaign stopped taking gifts on time (by date or by hand), once
    disbursement_made   v1   cash or goods were handed to a beneficiary (paid)
What it consumes is declared where it is handled: the `@subscribe` entrypoints of the service
class (`service.py`), here only those of the tenancy projection it mixes in
(`plumbing.entrypoints.TenancyProjection`).
"""
from decimal import Decimal

from marshmallow import Schema, fields

from services.plumbing.contract import EventContract
from services.plumbing.money import Money

PRODUCER = "donations"


class CampaignOpenedV1(Schema):
    campaign_id = fields.String(required=True)
    organiser_org_id = fields.String(required=True)
    title = fields.String(required=True)
    opened_at = fields.DateTime(required=True)


class DonationReceivedV1(Schema):
    donation_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    member_id = fields.String(required=True, allow_none=True)
    amount = Money(required=True, minimum_exclusive=Decimal("0"))
    received_at = fields.DateTime(required=True)


class DonationVoidedV1(Schema):
    donation_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    member_id = fields.String(required=True, allow_none=True)
    # The amount its donation_received carried, to take back.
    amount = Money(required=True, minimum_exclusive=Decimal("0"))
    reason = fields.String(required=True)
    voided_at = fields.DateTime(required=True)


class CampaignClosedV1(Schema):
    campaign_id = fields.String(required=True)
    organiser_org_id = fields.String(required=True, metadata={
        "description": "The branch or committee that ran the campaign"})
    closed_how = fields.String(required=True, metadata={
        "description": "`date` (its closing date passed) or `hand` (closed by its organiser)"})
    closed_at = fields.DateTime(required=True)
    cash_total = Money(required=True, metadata={
        "description": "Cash received, voids left out (decimal string, exact to the fen)"})
    goods_total = Money(required=True, metadata={
        "description": "The valuation of goods received, in yuan (decimal string)"})


class DisbursementItemV1(Schema):
    name = fields.String(required=True)
    unit = fields.String(required=True)
    quantity = fields.String(required=True)


class DisbursementMadeV1(Schema):
    disbursement_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    organiser_org_id = fields.String(required=True)
    kind = fields.String(required=True)  # "cash" or "goods"
    amount = Money(required=True, allow_none=True)
    items = fields.List(fields.Nested(DisbursementItemV1), required=True)
    beneficiary_name = fields.String(required=True)
    beneficiary_county = fields.String(required=True)
    disbursed_on = fields.Date(required=True)
    acknowledgement_ref = fields.String(required=True)


CAMPAIGN_OPENED = EventContract(PRODUCER, "campaign_opened", 1, CampaignOpenedV1)
DONATION_RECEIVED = EventContract(PRODUCER, "donation_received", 1, DonationReceivedV1)

DONATION_VOIDED = EventContract(PRODUCER, "donation_voided", 1, DonationVoidedV1)
CAMPAIGN_CLOSED = EventContract(PRODUCER, "campaign_closed", 1, CampaignClosedV1)
DISBURSEMENT_MADE = EventContract(PRODUCER, "disbursement_made", 1, DisbursementMadeV1)

PUBLISHES = (CAMPAIGN_OPENED, DONATION_RECEIVED, DONATION_VOIDED, CAMPAIGN_CLOSED,
             DISBURSEMENT_MADE)


def campaign_opened(campaign) -> dict:
    return CAMPAIGN_OPENED.envelope({
        "campaign_id": campaign.id, "organiser_org_id": campaign.organiser_org_id,
        "title": campaign.title, "opened_at": campaign.created_at})


def donation_received(donation) -> dict:
    return DONATION_RECEIVED.envelope({
        "donation_id": donation.id, "campaign_id": donation.campaign_id,
        "member_id": donation.member_id, "amount": donation.amount,
        "received_at": donation.received_at})


def donation_voided(donation) -> dict:
    return DONATION_VOIDED.envelope({
        "donation_id": donation.id, "campaign_id": donation.campaign_id,
        "member_id": donation.member_id, "amount": donation.amount,
        "reason": donation.void_reason, "voided_at": donation.voided_at})


def campaign_closed(campaign, totals) -> dict:
    return CAMPAIGN_CLOSED.envelope({
        "campaign_id": campaign.id, "organiser_org_id": campaign.organiser_org_id,
        "closed_how": campaign.closed_how, "closed_at": campaign.closed_at,
        "cash_total": totals.cash_total, "goods_total": totals.goods_total})


def disbursement_made(disbursement, campaign, beneficiary, items) -> dict:
    return DISBURSEMENT_MADE.envelope({
        "disbursement_id": disbursement.id, "campaign_id": campaign.id,
        "organiser_org_id": campaign.organiser_org_id, "kind": disbursement.kind,
        "amount": disbursement.amount,
        "items": [{"name": item.name, "unit": item.unit, "quantity": format(item.quantity, "f")}
                  for item in items],
        "beneficiary_name": beneficiary.name, "beneficiary_county": beneficiary.county,
        "disbursed_on": disbursement.disbursed_on,
        "acknowledgement_ref": disbursement.acknowledgement_ref})
