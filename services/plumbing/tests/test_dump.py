"""validation.dump: the same reply as the schema's own dump, for every schema a service or the
gateway dumps, on values of every kind a field may be given (and None, and keys left out)."""
import importlib
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump, pre_dump

from services.plumbing.money import Money
from services.plumbing.validation import dump, schema_instance

MODULES = ["services.members.schemas", "services.members.events",
           "services.services_desk.schemas", "services.services_desk.events",
           "services.donations.schemas", "services.donations.events",
           "gateway.schemas", "gateway.errors", "gateway.webhooks.schemas"]


def schemas_of(module_name):
    module = importlib.import_module(module_name)
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Schema)
            and value.__module__ == module_name]


ALL = [schema for name in MODULES for schema in schemas_of(name)]

TEXTS = ["", "abc", "淮阳区 城关镇", "བོད་ཡིག", "100%s", 'quote"back\\slash', 12, b"bytes"]
DECIMALS = [Decimal("0"), Decimal("12.345"), Decimal("-0.005"), Decimal("1E+3"), Decimal("99999999999999.99"),
            Decimal("0.1"), 7, "3.14"]
MOMENTS = [datetime(2026, 12, 1, 8, 30, tzinfo=UTC), datetime(2026, 12, 1, 16, 30, 15, 123456,
                                                               tzinfo=timezone(timedelta(hours=8))),
           datetime(1999, 1, 2, 3, 4, 5)]


def sample(field, rng, depth=0):
    roll = rng.random()
    if roll < 0.1:
        return None
    if isinstance(field, fields.Nested):
        nested = field.schema
        if depth > 3:
            return None
        if nested.many or field.many:
            return [sample_object(nested, rng, depth + 1) for _ in range(rng.randint(0, 3))]
        return sample_object(nested, rng, depth + 1)
    if isinstance(field, fields.List):
        return [sample(field.inner, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if isinstance(field, Money):
        return rng.choice(DECIMALS[:6])
    if isinstance(field, (fields.DateTime,)) and not isinstance(field, fields.Date):
        return rng.choice(MOMENTS)
    if isinstance(field, fields.Date):
        return rng.choice([date(2026, 2, 17), date(1960, 1, 1), MOMENTS[1]])
    if isinstance(field, fields.Decimal):
        return rng.choice(DECIMALS)
    if isinstance(field, fields.Integer):
        return rng.choice([0, -3, 2**40, True, 7.0])
    if isinstance(field, fields.Float):
        return rng.choice([0.5, 3, Decimal("1.25")])
    if isinstance(field, fields.Boolean):
        return rng.choice([True, False, 1])
    if isinstance(field, fields.String):
        return rng.choice(TEXTS)
    if isinstance(field, fields.Dict):
        return rng.choice([{}, {"a": 1, "b": [1, "二"]}])
    return rng.choice([1, "x", [1, 2], {"k": None}, True])


def sample_object(schema, rng, depth=0):
    data = {}
    for name, field in schema.dump_fields.items():
        if rng.random() < 0.1:
            continue   # a key left out: dumped without it (or with its dump_default)
        data[field.attribute or name] = sample(field, rng, depth)
    return data if rng.random() < 0.8 else SimpleNamespace(**data)   # attributes, as ORM rows


@pytest.mark.parametrize("schema_cls", ALL, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_the_dump_equals_the_schemas_own(schema_cls):
    assert ALL, "no schema found"
    schema, rng = schema_instance(schema_cls), random.Random(schema_cls.__name__)
    for _ in range(60):
        obj = sample_object(schema, rng)
        try:
            expected = schema.dump(obj)
        except Exception as error:   # a value this field refuses: refused alike
            with pytest.raises(type(error)):
                dump(schema_cls, obj)
            continue
        assert dump(schema_cls, obj) == expected


def test_the_schemas_are_found():
    assert len(ALL) > 150
    names = {cls.__name__ for cls in ALL}
    assert {"MemberSchema", "MemberPageSchema", "RequestSchema", "DonationSchema"} <= names


class Leaf(Schema):
    name = fields.String()
    when = fields.DateTime(format="%Y/%m/%d")
    amount = fields.Decimal(places=2, as_string=True)
    count = fields.Integer(dump_default=0)
    renamed = fields.String(data_key="shownAs", attribute="inner.name")
    method = fields.Method("twice")
    constant = fields.Constant("c")
    tree = fields.Nested(lambda: Leaf(exclude=("tree",)), many=True)

    def twice(self, obj):
        return 2 * (obj.get("count") or 0)


class Hooked(Schema):
    name = fields.String()

    @pre_dump
    def upper(self, data, **_kwargs):
        return {"name": data["name"].upper()}

    @post_dump
    def tagged(self, data, **_kwargs):
        return data | {"tag": 1}


class WithHooked(Schema):
    items = fields.List(fields.Nested(Hooked))
    one = fields.Nested(Hooked)
    only = fields.Nested(Leaf, only=("name", "count"))


@pytest.mark.parametrize("obj", [
    {"name": "a", "when": MOMENTS[0], "amount": Decimal("1.005"), "inner": {"name": "嵌"},
     "tree": [{"name": "b", "count": 3, "when": None}, {}]},
    {"count": None, "tree": None},
    {},
])
def test_formats_renames_defaults_methods_and_nesting(obj):
    assert dump(Leaf, obj) == Leaf().dump(obj)


def test_hooks_are_run_by_the_schema():
    obj = {"items": [{"name": "x"}], "one": {"name": "y"}, "only": {"name": "z", "count": 2, "amount": 1}}
    assert dump(WithHooked, obj) == WithHooked().dump(obj) == {
        "items": [{"name": "X", "tag": 1}], "one": {"name": "Y", "tag": 1},
        "only": {"name": "z", "count": 2}}
    assert dump(Hooked, {"name": "q"}) == {"name": "Q", "tag": 1}
