"""marshmallow schemas of the services desk API: request bodies (unknown fields rejected) and
replies. The gateway builds its OpenAPI document from these."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.members.phones import PHONE_PATTERN

from .proxy_requests import CATEGORIES, STATUSES

UUID_LENGTH = validate.Length(min=1, max=36)
TEXT_LENGTH = validate.Length(min=1, max=2000)


def _not_blank(value):
    # An empty string already fails the length check; one message is enough.
    if value and not value.strip():
        raise ValidationError("must not be blank")


class RequestSubmitSchema(Schema):
    """The requester is named exactly one way: a registered member by id, anyone else by name."""
    requester_member_id = fields.String(
        load_default=None, allow_none=True, validate=UUID_LENGTH,
        metadata={"description": "A registered member in your scope; or give requester_name."})
    requester_name = fields.String(
        load_default=None, allow_none=True,
        validate=[validate.Length(min=1, max=100), _not_blank],
        metadata={"description": "Someone who is not a registered member; "
                                 "or give requester_member_id."})
    requester_phone = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(
            PHONE_PATTERN,
            error="must be a mainland mobile (11 digits) or a landline with area code"),
        metadata={"description": "Only with requester_name. Returned masked."})
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank])

    # Decided on the raw input, not on the loaded data, so that a name that failed its own
    # validation still counts as given; and run even when other fields failed, so that the
    # caller hears about every problem at once.
    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_way_of_naming_the_requester(self, _data, original, **_kwargs):
        def given(key):
            return original.get(key) is not None

        errors = {}
        if given("requester_member_id") and given("requester_name"):
            both = "give requester_member_id or requester_name, not both"
            errors = {"requester_member_id": [both], "requester_name": [both]}
        elif not given("requester_member_id") and not given("requester_name"):
            neither = "give requester_member_id or requester_name"
            errors = {"requester_member_id": [neither], "requester_name": [neither]}
        elif given("requester_member_id") and given("requester_phone"):
            errors = {"requester_phone": [
                "only with requester_name: a member is reached through the registry"]}
        if errors:
            raise ValidationError(errors)


class RequestCompleteSchema(Schema):
    outcome = fields.String(required=True, validate=[TEXT_LENGTH, _not_blank], metadata={
        "description": "What was done and the answer given (件件有着落、事事有回音)."})


class RequestListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class RequestSchema(Schema):
    id = fields.String()
    centre_org_id = fields.String()
    category = fields.String()
    description = fields.String()
    requester_member_id = fields.String(allow_none=True)
    requester_name = fields.String()
    requester_phone = fields.String(allow_none=True,
                                    metadata={"description": "Masked: 138****5678"})
    status = fields.String(metadata={"description": "submitted → in_progress → completed"})
    submitted_by = fields.String(metadata={"description": "API key that took the request in."})
    first_owner = fields.String(allow_none=True, metadata={
        "description": "API key that claimed it first and owns it for good (首问责任制)."})
    assignee = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class RequestStepSchema(Schema):
    step = fields.String(metadata={"description": "submitted, claimed or completed"})
    actor_key_id = fields.String()
    at = fields.DateTime()
    note = fields.String(allow_none=True)


class RequestDetailSchema(RequestSchema):
    steps = fields.List(fields.Nested(RequestStepSchema), metadata={
        "description": "The request's ledger (跟踪服务台账), oldest step first."})


class RequestPageSchema(Schema):
    items = fields.List(fields.Nested(RequestSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})
