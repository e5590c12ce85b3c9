"""The donations service's event contract: what it publishes and what it consumes.

Published (exchange `donations.events`, routing key = event type):
    campaign_opened     v1   a campaign was created and takes gifts
    donation_received   v1   a cash gift was recorded (amount: decimal string, exact to the fen)
Consumed:
    members.org_unit_registered v1 -> on_org_unit_registered (tenancy projection)
    members.member_registered   v1 -> on_member_registered   (tenancy projection)
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


CAMPAIGN_OPENED = EventContract(PRODUCER, "campaign_opened", 1, CampaignOpenedV1)
DONATION_RECEIVED = EventContract(PRODUCER, "donation_received", 1, DonationReceivedV1)

PUBLISHES = (CAMPAIGN_OPENED, DONATION_RECEIVED)


def campaign_opened(campaign) -> dict:
    return CAMPAIGN_OPENED.envelope({
        "campaign_id": campaign.id, "organiser_org_id": campaign.organiser_org_id,
        "title": campaign.title, "opened_at": campaign.created_at})


def donation_received(donation) -> dict:
    return DONATION_RECEIVED.envelope({
        "donation_id": donation.id, "campaign_id": donation.campaign_id,
        "member_id": donation.member_id, "amount": donation.amount,
        "received_at": donation.received_at})
