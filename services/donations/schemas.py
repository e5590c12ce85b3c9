"""marshmallow schemas of the donations API: request bodies (unknown fields rejected) and replies.
Amounts are `Money`: JSON strings exact to the fen, never numbers."""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.plumbing.fields import Day
from services.plumbing.money import Money, Quantity, to_wire

from .campaigns import BENEFICIARY_KINDS, PURPOSES
from .disbursements import KINDS as DISBURSEMENT_KINDS
from .gifts import CHANNELS, DEFAULT_MAX_AMOUNT, PUBLIC_NAME_CHOICES
from .ledger import FORMATS as EXPORT_FORMATS

UUID_LENGTH = validate.Length(min=1, max=36)


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: marshmallow would otherwise also take "yes", 1, "on", and even
    with truthy={True} it takes 1 and 0 (1 == True in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _not_blank(value):
    if value is not None and not value.strip():
        raise ValidationError("must not be blank")


def _text(max_length: int, **kwargs):
    return fields.String(validate=[validate.Length(min=1, max=max_length), _not_blank], **kwargs)


class BeneficiaryCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(BENEFICIARY_KINDS))
    name = _text(200, required=True, metadata={"description": "Village, school or household."})
    county = _text(100, required=True)


class BeneficiarySchema(Schema):
    id = fields.String()
    kind = fields.String()
    name = fields.String()
    county = fields.String()


class CampaignCreateSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    goal = Money(load_default=None, allow_none=True, minimum_exclusive=Decimal("0"),
                 metadata={"description": "Target in yuan, if the campaign has one."})
    opens_on = Day(required=True)
    closes_on = Day(required=True, metadata={
        "description": "Last day of the campaign (China time). Gifts after it are still "
                       "accepted and marked late."})
    beneficiaries = fields.List(fields.Nested(BeneficiaryCreateSchema), load_default=list,
                                validate=validate.Length(max=500))
    public = StrictBoolean(load_default=False, metadata={
        "description": "Publish the ledger (公示) without a key."})
    draft = StrictBoolean(load_default=False, metadata={
        "description": "Create as a draft, opened later by POST .../open; otherwise it opens "
                       "at once."})

    @validates_schema
    def _closes_after_opening(self, data, **_kwargs):
        if "opens_on" in data and "closes_on" in data and data["closes_on"] < data["opens_on"]:
            raise ValidationError("must be on or after opens_on", field_name="closes_on")


class CampaignTotalsSchema(Schema):
    cash_total = Money(metadata={"description": "Cash gifts not voided, exact to the fen."})
    goods_total = Money(metadata={"description": "Valuation of goods given (折合人民币), not "
                                                 "voided; kept apart from cash."})
    raised_total = Money(metadata={"description": "cash_total + goods_total."})
    donation_count = fields.Integer(metadata={"description": "Gifts not voided, both kinds."})
    late_count = fields.Integer(metadata={"description": "Gifts received after closes_on or "
                                                         "after closing."})
    cash_received = Money(metadata={"description": "Every cash gift, voided ones too."})
    cash_voided = Money()
    goods_voided = Money()
    voided_count = fields.Integer()
    cash_disbursed = Money(metadata={"description": "Cash paid out to beneficiaries."})
    cash_reserved = Money(metadata={"description": "Approved, not yet paid out."})
    cash_balance = Money(metadata={"description": "cash_received - cash_voided - "
                                                  "cash_disbursed."})
    progress_percent = Money(allow_none=True, metadata={
        "description": "raised_total / goal in percent, cut to two places; null without a "
                       "goal."})


class CampaignSchema(CampaignTotalsSchema):
    id = fields.String()
    organiser_org_id = fields.String()
    title = fields.String()
    purpose = fields.String()
    goal = Money(allow_none=True)
    opens_on = Day()
    closes_on = Day()
    status = fields.String(metadata={"description": "draft, open, closed or settled."})
    public = fields.Boolean()
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    closed_how = fields.String(allow_none=True, metadata={"description": "date or hand."})
    beneficiaries = fields.List(fields.Nested(BeneficiarySchema))


class CampaignListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, validate=validate.OneOf(
        ("draft", "open", "closed", "settled")))


class CampaignPageSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class DonationCreateSchema(Schema):
    """A cash gift. `max_amount` (a Decimal) caps `amount`: the service passes its configured
    cap."""
    amount = Money(required=True, minimum_exclusive=Decimal("0"), maximum=DEFAULT_MAX_AMOUNT,
                   metadata={"description": "At most the platform's DONATION_MAX_AMOUNT "
                                            f"(default {DEFAULT_MAX_AMOUNT}) per gift."})
    member_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH,
                              metadata={"description": "The giving member, if a member gives."})
    donor_name = fields.String(load_default=None, allow_none=True,
                               validate=[validate.Length(min=1, max=100), _not_blank],
                               metadata={"description": "Name of a donor who is not a member."})
    anonymous = StrictBoolean(load_default=False, metadata={
        "description": "Keep the donor's name off lists and receipts shown to others."})
    public_name = fields.String(load_default="masked", validate=validate.OneOf(
        PUBLIC_NAME_CHOICES), metadata={"description": "How the public ledger shows a named "
                                                       "donor: `name` or `masked` (张*)."})
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


class GiftItemCreateSchema(Schema):
    name = _text(200, required=True)
    unit = _text(20, required=True, metadata={"description": "箱, 吨, 套, ..."})
    quantity = Quantity(required=True)
    valuation = Money(required=True, minimum_exclusive=Decimal("0"), metadata={
        "description": "What the line is worth in yuan (折合人民币)."})


class InKindDonationCreateSchema(Schema):
    """A gift of goods, valued in yuan line by line by `valued_by`."""
    items = fields.List(fields.Nested(GiftItemCreateSchema), required=True,
                        validate=validate.Length(min=1, max=200))
    valued_by = _text(100, required=True, metadata={
        "description": "Who put a value on the goods."})
    member_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH)
    donor_name = fields.String(load_default=None, allow_none=True,
                               validate=[validate.Length(min=1, max=100), _not_blank])
    anonymous = StrictBoolean(load_default=False)
    public_name = fields.String(load_default="masked",
                                validate=validate.OneOf(PUBLIC_NAME_CHOICES))

    @validates_schema
    def _one_donor(self, data, **_kwargs):
        if data.get("member_id") and data.get("donor_name"):
            raise ValidationError("give member_id for a member or donor_name for anyone else, "
                                  "not both", field_name="donor_name")


class GiftItemSchema(Schema):
    name = fields.String()
    unit = fields.String()
    quantity = Quantity()
    valuation = Money()


class DonationSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    receipt_no = fields.Integer(metadata={"description": "1, 2, 3, ... per campaign, no gaps."})
    kind = fields.String(metadata={"description": "cash or in_kind."})
    amount = Money(metadata={"description": "Cash given, or the goods' valuation."})
    member_id = fields.String(allow_none=True)
    donor = fields.String(allow_none=True, metadata={
        "description": "The donor's name as shown; null when anonymous or unnamed."})
    anonymous = fields.Boolean()
    public_name = fields.String()
    late = fields.Boolean(metadata={"description": "Received after the campaign's closes_on."})
    channel = fields.String()
    received_at = fields.DateTime()
    batch_id = fields.String(allow_none=True)
    valued_by = fields.String(allow_none=True)
    items = fields.List(fields.Nested(GiftItemSchema))
    voided = fields.Boolean()
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    replayed = fields.Boolean(metadata={
        "description": "True when an Idempotency-Key repeated an earlier request: this is the "
                       "gift that request recorded, not a new one."})


class DonationBatchCreateSchema(Schema):
    """Offline cash gifts from a paper list: accepted whole when `declared_count` and
    `declared_total` (from the paper) match the gifts entered, else refused whole."""
    reference = _text(200, required=True, metadata={
        "description": "Which paper list. A reference already used by a batch of the same "
                       "campaign is refused (409) as the same list entered twice, unless "
                       "`different_list` is true."})
    different_list = fields.Boolean(load_default=False, metadata={
        "description": "True when this is another paper list that happens to carry a "
                       "reference already used in this campaign."})
    declared_count = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=1, max=1000))
    declared_total = Money(required=True, minimum_exclusive=Decimal("0"))
    gifts = fields.List(fields.Nested(DonationCreateSchema), required=True,
                        validate=validate.Length(min=1, max=1000))

    def __init__(self, *, max_amount: Decimal | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_amount is not None:
            to_wire(max_amount)
            self.fields["gifts"].inner.schema.fields["amount"].maximum = max_amount


class DonationBatchSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    reference = fields.String()
    declared_count = fields.Integer()
    declared_total = Money()
    gifts = fields.List(fields.Nested(DonationSchema))
    replayed = fields.Boolean()


class DonationVoidSchema(Schema):
    reason = _text(500, required=True, metadata={"description": "Why the entry was wrong."})


class DisbursementItemCreateSchema(Schema):
    name = _text(200, required=True, metadata={"description": "As received in the campaign."})
    unit = _text(20, required=True)
    quantity = Quantity(required=True)


class DisbursementCreateSchema(Schema):
    beneficiary_id = fields.String(required=True, validate=UUID_LENGTH)
    kind = fields.String(required=True, validate=validate.OneOf(DISBURSEMENT_KINDS))
    amount = Money(load_default=None, allow_none=True, minimum_exclusive=Decimal("0"),
                   metadata={"description": "Cash to hand over (kind cash only)."})
    items = fields.List(fields.Nested(DisbursementItemCreateSchema), load_default=None,
                        allow_none=True, validate=validate.Length(min=1, max=200),
                        metadata={"description": "Goods to hand over (kind goods only)."})
    purpose = _text(500, required=True)

    @validates_schema
    def _amount_or_items(self, data, **_kwargs):
        if data.get("kind") == "cash":
            if data.get("amount") is None:
                raise ValidationError("required for a cash disbursement", field_name="amount")
            if data.get("items") is not None:
                raise ValidationError("only for a goods disbursement", field_name="items")
        elif data.get("kind") == "goods":
            if not data.get("items"):
                raise ValidationError("required for a goods disbursement", field_name="items")
            if data.get("amount") is not None:
                raise ValidationError("only for a cash disbursement", field_name="amount")


class DisbursementApproveSchema(Schema):
    approver = _text(100, required=True, metadata={"description": "Who approved it (name)."})


class DisbursementPaySchema(Schema):
    acknowledgement_ref = _text(200, required=True, metadata={
        "description": "The recipient's acknowledgement (receipt) reference."})
    disbursed_on = Day(required=True)


class DisbursementRejectSchema(Schema):
    reason = _text(500, required=True)


class DisbursementItemSchema(Schema):
    name = fields.String()
    unit = fields.String()
    quantity = Quantity()


class DisbursementSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    beneficiary = fields.Nested(BeneficiarySchema)
    kind = fields.String()
    amount = Money(allow_none=True)
    items = fields.List(fields.Nested(DisbursementItemSchema))
    purpose = fields.String()
    status = fields.String(metadata={"description": "requested, approved, paid or rejected."})
    requested_at = fields.DateTime()
    approver = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    acknowledgement_ref = fields.String(allow_none=True)
    disbursed_on = Day(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    rejected_reason = fields.String(allow_none=True)


class DisbursementListSchema(Schema):
    items = fields.List(fields.Nested(DisbursementSchema))


class LedgerQuerySchema(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={
        "description": "Gifts after this receipt number (`next_after` of the previous page)."})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


# -- the ledger: the public one (公示) shows exactly what the Public* schemas name, and the ledger
# read with a key adds to them (so a field added to the keyed ledger is never public by mistake).
class PublicBeneficiarySchema(Schema):
    kind = fields.String()
    name = fields.String()
    county = fields.String()


class PublicLedgerCampaignSchema(Schema):
    id = fields.String()
    title = fields.String()
    purpose = fields.String()
    organiser = fields.String(allow_none=True)
    goal = Money(allow_none=True)
    opens_on = Day()
    closes_on = Day()
    status = fields.String()
    beneficiaries = fields.List(fields.Nested(PublicBeneficiarySchema))


class LedgerCampaignSchema(PublicLedgerCampaignSchema):
    beneficiaries = fields.List(fields.Nested(BeneficiarySchema))


class PublicLedgerGiftSchema(Schema):
    receipt_no = fields.Integer()
    kind = fields.String()
    amount = Money()
    received_on = Day()
    late = fields.Boolean()
    donor = fields.String(metadata={"description": "The name, masked (张*) or 匿名, as the "
                                                   "donor chose."})
    valued_by = fields.String(allow_none=True)
    items = fields.List(fields.Nested(GiftItemSchema))
    voided = fields.Boolean()
    void_reason = fields.String(allow_none=True)


class LedgerGiftSchema(PublicLedgerGiftSchema):
    donor = fields.String(allow_none=True, metadata={
        "description": "Public ledger: the name, masked (张*) or 匿名, as the donor chose."})
    # Only on the ledger read with a key:
    id = fields.String()
    member_id = fields.String(allow_none=True)
    channel = fields.String()
    anonymous = fields.Boolean()
    batch_id = fields.String(allow_none=True)
    received_at = fields.DateTime()


class GoodsBalanceSchema(Schema):
    name = fields.String()
    unit = fields.String()
    received = Quantity()
    disbursed = Quantity()
    reserved = Quantity()
    left = Quantity()


class PublicDisbursementSchema(Schema):
    beneficiary = fields.Nested(PublicBeneficiarySchema)
    kind = fields.String()
    amount = Money(allow_none=True)
    items = fields.List(fields.Nested(DisbursementItemSchema))
    purpose = fields.String()
    status = fields.String(metadata={"description": "Always paid here."})
    approver = fields.String(allow_none=True)
    acknowledgement_ref = fields.String(allow_none=True)
    disbursed_on = Day(allow_none=True)


class PublicLedgerSchema(Schema):
    campaign = fields.Nested(PublicLedgerCampaignSchema)
    totals = fields.Nested(CampaignTotalsSchema)
    goods = fields.List(fields.Nested(GoodsBalanceSchema))
    gifts = fields.List(fields.Nested(PublicLedgerGiftSchema))
    next_after = fields.Integer(allow_none=True, metadata={
        "description": "Pass as `after` for the next page of gifts; null on the last page."})
    disbursements = fields.List(fields.Nested(PublicDisbursementSchema), metadata={
        "description": "Paid disbursements only."})


class LedgerSchema(PublicLedgerSchema):
    campaign = fields.Nested(LedgerCampaignSchema)
    gifts = fields.List(fields.Nested(LedgerGiftSchema))
    disbursements = fields.List(fields.Nested(DisbursementSchema), metadata={
        "description": "Public ledger: paid ones only, without ids."})


class LedgerExportQuerySchema(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(tuple(EXPORT_FORMATS)))


class LedgerExportSchema(Schema):
    filename = fields.String()
    content_type = fields.String()
    content_base64 = fields.String(metadata={"description": "The file, base64-encoded."})


class ReconciliationSchema(Schema):
    campaign_id = fields.String()
    received = Money()
    voided = Money()
    disbursed = Money()
    balance = Money()
    ok = fields.Boolean()
    problems = fields.List(fields.String())


class OrganiserTotalsSchema(Schema):
    organiser_org_id = fields.String()
    campaign_count = fields.Integer()
    cash_total = Money()
    goods_total = Money()
    cash_disbursed = Money()
    cash_balance = Money()
    donation_count = fields.Integer()


class OrganiserTotalsListSchema(Schema):
    items = fields.List(fields.Nested(OrganiserTotalsSchema))


class MemberCampaignGivingSchema(Schema):
    campaign_id = fields.String()
    title = fields.String()
    cash_total = Money()
    goods_total = Money()
    donation_count = fields.Integer()


class MemberGivingSchema(Schema):
    member_id = fields.String()
    cash_total = Money()
    goods_total = Money()
    donation_count = fields.Integer()
    campaigns = fields.List(fields.Nested(MemberCampaignGivingSchema))
