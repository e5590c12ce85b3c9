"""Loading request bodies and queries through marshmallow, failing with field-level messages;
dumping replies through the same schemas."""
from marshmallow import Schema, ValidationError, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type, get_value

from .errors import ValidationFailed, fields_from_marshmallow

# Building a schema deep-copies its declared fields (a few per cent of a registration's CPU);
# loading keeps no state on the instance, so one instance per (class, options) serves every call.
_schemas: dict = {}


def schema_instance(schema_cls, **schema_kwargs):
    try:
        key = (schema_cls, tuple(sorted(schema_kwargs.items())))
        hash(key)
    except TypeError:   # options that cannot be a key (a list of fields): not kept
        return schema_cls(**schema_kwargs)
    schema = _schemas.get(key)
    if schema is None:
        schema = _schemas[key] = schema_cls(**schema_kwargs)
    return schema


def load(schema_cls, data, **schema_kwargs):
    """Validate a body or query; unknown fields are rejected (marshmallow's default)."""
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", {"_schema": ["expected a JSON object"]})
    try:
        return schema_instance(schema_cls, **schema_kwargs).load(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid input", fields_from_marshmallow(exc.messages)) from None


# -- replies ------------------------------------------------------------------------------------
def dump(schema_cls, obj):
    """What `schema_cls().dump(obj)` returns, through a plan compiled once per schema: each
    field's value read and converted by the code marshmallow's own field would run, without the
    per-field dispatch around it (a list page of fifty members dumped in a quarter of the time,
    issue 13). A field whose class has a serializer of its own (Money, Dict, Method, ...) is
    serialized by that field; a schema with dump hooks is dumped by marshmallow itself."""
    plan = _plans.get(schema_cls)
    if plan is None:
        schema = schema_instance(schema_cls)
        plan = _plans[schema_cls] = _compile_schema(schema, schema.many)
    return plan(obj)


_plans: dict = {}   # schema class -> its dump function


def _compile_schema(schema: Schema, many: bool):
    """obj (or a list of them when `many`) -> what schema.dump(obj, many=many) returns."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return lambda obj: schema.dump(obj, many=many)
    plan = []
    for attr, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr
        if not field._CHECK_ATTRIBUTE:   # Method, Function, Constant: the field does it all
            plan.append((key, _whole_field(schema, attr, field), _as_is, missing))
        else:
            plan.append((key, _getter(field.attribute or attr), _converter(field, attr),
                         field.dump_default))

    def dump_one(obj):
        result = {}
        for key, get, convert, default in plan:
            value = get(obj)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            result[key] = convert(value, obj)
        return result

    if many:
        return lambda objs: None if objs is None else [dump_one(obj) for obj in objs]
    return dump_one


def _whole_field(schema, attr, field):
    """obj -> the field's serialized value, or missing."""
    return lambda obj: field.serialize(attr, obj, accessor=schema.get_attribute)


def _as_is(value, _obj):
    return value


def _getter(attr: str):
    """marshmallow's get_value(obj, attr, missing), with a dictionary's key read directly."""
    if "." in attr:
        return lambda obj: get_value(obj, attr, missing)

    def get(obj):
        if type(obj) is dict and attr in obj:
            return obj[attr]
        return get_value(obj, attr, missing)
    return get


def _converter(field, attr: str):
    """value, obj -> what field._serialize(value, attr, obj) returns."""
    own = type(field)._serialize
    if own is fields.String._serialize:
        return lambda value, _obj: (value if type(value) is str or value is None
                                    else ensure_text_type(value))
    if own is fields.Field._serialize:   # Boolean, Raw: the value itself
        return _as_is
    if own is fields.DateTime._serialize:   # Date, DateTime, AwareDateTime, ...
        form = field.format or field.DEFAULT_FORMAT
        to_text = field.SERIALIZATION_FUNCS.get(form)
        if to_text is None:
            return lambda value, _obj: None if value is None else value.strftime(form)
        return lambda value, _obj: None if value is None else to_text(value)
    if own is fields.Number._serialize:   # Integer, Decimal, Float
        number, as_text = field._format_num, field._to_string
        if field.as_string:
            return lambda value, _obj: None if value is None else as_text(number(value))
        return lambda value, _obj: None if value is None else number(value)
    if own is fields.List._serialize:
        inner = _converter(field.inner, attr)
        return lambda value, obj: None if value is None else [inner(each, obj) for each in value]
    if own is fields.Nested._serialize:
        compiled = []   # compiled at first use: a schema may nest itself

        def nested(value, _obj):
            if value is None:
                return None
            if not compiled:
                schema = field.schema
                compiled.append(_compile_schema(schema, bool(schema.many or field.many)))
            return compiled[0](value)
        return nested
    return lambda value, obj: field._serialize(value, attr, obj)

