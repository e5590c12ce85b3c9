"""A marshmallow schema's load, compiled once for the thousands of rows of a bulk import.

`Schema.load` costs an import row ~35 µs, mostly marshmallow's own bookkeeping around a handful
of cheap checks. `FastLoad` reads the schema's fields once and runs the same checks per row:
the fields' own validator objects, the schema's own `@validates` methods, the same parsing
(`date.fromisoformat`, what `fields.Date` uses) and the same range and storability checks as
`Day` and `Text`. It only ever says yes: a row it cannot pass returns None and goes through the
schema itself, which gives the exact messages, so both paths load exactly the same rows to
exactly the same data. A schema feature it does not know (another field class, a pre- or
post-load hook, a data_key) turns it off: every row then goes through the schema.
"""
from datetime import date

from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

from services.plumbing.fields import EARLIEST_DAY, Day
from services.plumbing.text import storable

from .schemas import Text

_TEXT_CLASSES = (fields.String, Text)


class _No(Exception):
    """This row is not for the fast path."""


class FastLoad:
    def __init__(self, schema: Schema):
        self.schema = schema
        self.enabled = True
        self._checks = {}     # input key -> check(value) -> loaded value, or raises _No
        self._required = []
        self._defaults = {}   # field -> load_default, for a field not given
        try:
            self._compile()
        except (_No, AttributeError, KeyError):  # (the last two: another marshmallow's insides)
            self.enabled = False

    def __call__(self, body: dict) -> dict | None:
        """What `schema.load(body)` returns, or None when the schema must load this row."""
        if not self.enabled:
            return None
        checks = self._checks
        try:
            data = {key: checks[key](value) for key, value in body.items()}
        except (KeyError, _No, ValidationError):
            return None  # an unknown field, or a value that fails (or may fail) a rule
        for name in self._required:
            if name not in data:
                return None
        for name, default in self._defaults.items():
            if name not in data:
                data[name] = default() if callable(default) else default
        return data

    # -- compiling the schema's rules ---------------------------------------------------------
    def _compile(self):
        schema = self.schema
        hooks = schema._hooks
        if hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES_SCHEMA]:
            raise _No
        extra = {}  # field -> the schema's @validates methods for it
        for attr_name, _many, kwargs in hooks[VALIDATES]:
            for name in kwargs["field_names"]:
                extra.setdefault(name, []).append(getattr(schema, attr_name))
        for name, field in schema.load_fields.items():
            if field.data_key not in (None, name) or field.attribute not in (None, name):
                raise _No
            check = self._value_check(field)
            if extra.get(name):
                check = _then(check, [_validator_call(m, name) for m in extra[name]])
            self._checks[name] = check
            if field.required:
                self._required.append(name)
            elif field.load_default is not missing:
                self._defaults[name] = field.load_default

    def _value_check(self, field):
        """value -> the field's deserialised value (None passes only where allow_none)."""
        if field.pre_load or field.post_load:
            raise _No
        validators = [_fast_validator(v) for v in field.validators]
        kind = type(field)
        if kind in _TEXT_CLASSES:
            check_storable = kind is Text

            def text(value):
                if type(value) is not str or (check_storable and not storable(value)):
                    raise _No
                for check in validators:
                    check(value)
                return value
            return _allowing_none(field, text)
        if kind is Day:
            if field.format not in (None, "iso", "iso8601"):
                raise _No

            def day(value):
                if type(value) is not str:
                    raise _No
                try:
                    parsed = date.fromisoformat(value)
                except ValueError:
                    raise _No from None
                if not EARLIEST_DAY <= parsed <= field.latest():
                    raise _No
                for check in validators:
                    check(parsed)
                return parsed
            return _allowing_none(field, day)
        if kind is fields.List:
            inner = self._value_check(field.inner)

            def items(value):
                if type(value) is not list:
                    raise _No
                loaded = [inner(item) for item in value]
                for check in validators:
                    check(loaded)
                return loaded
            return _allowing_none(field, items)
        raise _No


def _allowing_none(field, check):
    if not field.allow_none:
        return check

    def maybe(value):
        return None if value is None else check(value)
    return maybe


def _fast_validator(validator):
    """A check that raises where the validator would fail (an inline one for the common
    validators, else the validator itself)."""
    if type(validator) is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal

        def length(value):
            size = len(value)
            if (equal is not None and size != equal) or (low is not None and size < low) \
                    or (high is not None and size > high):
                raise _No
        return length
    if type(validator) is validate.OneOf:
        choices = validator.choices

        def one_of(value):
            if value not in choices:
                raise _No
        return one_of
    if type(validator) is validate.Regexp:
        match = validator.regex.match

        def regexp(value):
            if match(value) is None:
                raise _No
        return regexp
    return _validator_call(validator)


def _validator_call(validator, data_key=None):
    """Any other validator, or a `@validates` method, called as marshmallow calls it: it fails
    by raising. (A False or `missing` returned means something to some marshmallow versions:
    such a row goes to the schema.)"""
    def call(value):
        result = validator(value) if data_key is None else validator(value, data_key=data_key)
        if result is False or result is missing:
            raise _No
    return call


def _then(check, more):
    def both(value):
        value = check(value)
        for extra in more:
            extra(value)
        return value
    return both
