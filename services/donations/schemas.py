"""marshmallow schemas of the donations API: request bodies (unknown fields rejected) and replies.
Amounts are `Money`: JSON strings exact to the fen, never numbers."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.plumbing.money import Money, to_wire

from .campaigns import PURPOSES
from .gifts import CHANNELS

UUID_LENGTH = validate.Length(min=1, max=36)
# Only JSON true/false: marshmallow would otherwise also take "yes", 1, "on" and the like.
STRICT_BOOLEAN = {"truthy": {True}, "falsy": {False}}


def _not_blank(value):
    if value is not None and not value.strip():
        raise ValidationError("must not be blank")


class CampaignCreateSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    goal = Money(load_default=None, allow_none=True, minimum_exclusive=Decimal("0"),
                 metadata={"description": "Target in yuan, if the campaign has one."})
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True, metadata={
        "description": "Last day of the campaign (China time). Gifts after it are still "
                       "accepted and marked late."})

    @validates_schema
    def _closes_after_opening(self, data, **_kwargs):
        if "opens_on" in data and "closes_on" in data and data["closes_on"] < data["opens_on"]:
            raise ValidationError("must be on or after opens_on", field_name="closes_on")


class CampaignSchema(Schema):
    id = fields.String()
    organiser_org_id = fields.String()
    title = fields.String()
    purpose = fields.String()
    goal = Money(allow_none=True)
    opens_on = fields.Date()
    closes_on = fields.Date()
    status = fields.String()
    created_at = fields.DateTime()
    cash_total = Money(metadata={"description": "Sum of all cash gifts, exact to the fen."})
    donation_count = fields.Integer()
    late_count = fields.Integer(metadata={"description": "Gifts received after closes_on."})


class CampaignListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)


class CampaignPageSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class DonationCreateSchema(Schema):
    """A cash gift. `max_amount` (a Decimal) caps `amount`: the service passes its configured
    cap."""
    amount = Money(required=True, minimum_exclusive=Decimal("0"))
    member_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH,
                              metadata={"description": "The giving member, if a member gives."})
    donor_name = fields.String(load_default=None, allow_none=True,
                               validate=[validate.Length(min=1, max=100), _not_blank],
                               metadata={"description": "Name of a donor who is not a member."})
    anonymous = fields.Boolean(load_default=False, **STRICT_BOOLEAN, metadata={
        "description": "Keep the donor's name off lists and receipts shown to others."})
    channel = fields.String(load_default="cash", validate=validate.OneOf(CHANNELS))

    def __init__(self, *, max_amount: Decimal | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_amount is not None:
            to_wire(max_amount)  # the cap is money too: a Decimal exact to the fen
            self.fields["amount"].maximum = max_amount

    @validates_schema
    def _one_donor(self, data, **_kwargs):
        if data.get("member_id") and data.get("donor_name"):
            raise ValidationError("give member_id for a member or donor_name for anyone else, "
                                  "not both", field_name="donor_name")


class DonationSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    receipt_no = fields.Integer(metadata={"description": "1, 2, 3, ... per campaign, no gaps."})
    amount = Money()
    member_id = fields.String(allow_none=True)
    donor = fields.String(allow_none=True, metadata={
        "description": "The donor's name as shown; null when anonymous or unnamed."})
    anonymous = fields.Boolean()
    late = fields.Boolean(metadata={"description": "Received after the campaign's closes_on."})
    channel = fields.String()
    received_at = fields.DateTime()
    replayed = fields.Boolean(metadata={
        "description": "True when an Idempotency-Key repeated an earlier request: this is the "
                       "gift that request recorded, not a new one."})
