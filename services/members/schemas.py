"""marshmallow schemas of the members API: request bodies (unknown fields rejected) and replies.
The gateway builds its OpenAPI document from these."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from .orgs import KINDS
from .phones import PHONE_PATTERN

UUID_LENGTH = validate.Length(min=1, max=36)


class OrgUnitCreateSchema(Schema):
    parent_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH,
                              metadata={"description": "Parent unit; omit for a top-level unit."})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    city = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class OrgUnitSchema(Schema):
    id = fields.String()
    parent_id = fields.String(allow_none=True)
    kind = fields.String()
    name = fields.String()
    city = fields.String(allow_none=True)
    created_at = fields.DateTime()


class MemberCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_number = fields.String(required=True, metadata={
        "description": "Resident-ID number: 18 characters with a valid check digit, or a "
                       "legacy 15-digit number. Never returned unmasked."})
    phone = fields.String(required=True, validate=validate.Regexp(
        PHONE_PATTERN, error="must be a mainland mobile (11 digits) or a landline with area code"))
    home_org_id = fields.String(required=True, validate=UUID_LENGTH)
    host_org_id = fields.String(load_default=None, allow_none=True, validate=UUID_LENGTH)

    @validates("name")
    def _name_not_blank(self, value, **_kwargs):
        if not value.strip():
            raise ValidationError("must not be blank")


class MemberSchema(Schema):
    id = fields.String()
    name = fields.String()
    id_number = fields.String(metadata={"description": "Masked: 110101********123X"})
    phone = fields.String(metadata={"description": "Masked: 138****5678"})
    home_org_id = fields.String()
    host_org_id = fields.String(allow_none=True)
    status = fields.String()
    giving_total = fields.Decimal(as_string=True, places=2)
    created_at = fields.DateTime()


class MemberListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)
    home_org_id = fields.String(load_default=None, validate=UUID_LENGTH)
    host_org_id = fields.String(load_default=None, validate=UUID_LENGTH)
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                         metadata={"description": "Part of the name."})


class MemberPageSchema(Schema):
    items = fields.List(fields.Nested(MemberSchema))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})
