"""The Money field: amounts on the wire are strings exact to the fen; no float ever enters."""
from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError

from services.plumbing.money import LARGEST, Money, to_wire


class GiftSchema(Schema):
    amount = Money(required=True, minimum_exclusive=Decimal("0"), maximum=Decimal("10000.00"))


class BalanceSchema(Schema):
    balance = Money(allow_none=True)


def load_amount(value):
    return GiftSchema().load({"amount": value})["amount"]


def error_of(value, schema=GiftSchema, name="amount"):
    with pytest.raises(ValidationError) as caught:
        schema().load({name: value})
    return caught.value.messages[name]


@pytest.mark.parametrize("text, expected", [
    ("100.00", Decimal("100.00")),
    ("100", Decimal("100.00")),
    ("0.5", Decimal("0.50")),
    ("0.01", Decimal("0.01")),
    ("1.500", Decimal("1.50")),  # the same amount as "1.50": nothing below a fen is lost
    ("0007.10", Decimal("7.10")),
    ("10000.00", Decimal("10000.00")),
])
def test_loads_a_string_as_a_decimal_in_fen(text, expected):
    amount = load_amount(text)
    assert isinstance(amount, Decimal)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize("number", [100, 12.5, 0.1, True, [], {}])
def test_a_json_number_or_other_non_string_is_refused(number):
    assert error_of(number) == ['must be a string such as "100.00"']


@pytest.mark.parametrize("text", ["abc", "", " 1.00", "1.00 ", "1e3", "1E+2", "NaN", "Infinity",
                                  "-Infinity", "1_000", "1,000.00", ".5", "5.", "+5", "¥5",
                                  "１２", "٣", "1.00\n", "0x10"])
def test_anything_but_plain_decimal_notation_is_refused(text):
    assert error_of(text) == ['must be an amount in yuan such as "100.00"']


@pytest.mark.parametrize("text", ["1.005", "0.001", "100.123", "1.0050"])
def test_more_than_two_decimal_places_are_refused(text):
    assert error_of(text) == ["must have at most 2 decimal places"]


@pytest.mark.parametrize("text", ["0", "0.00", "-0.00", "-5.00", "-0.01"])
def test_minimum_exclusive(text):
    assert error_of(text) == ["must be greater than 0.00"]


def test_maximum_is_inclusive():
    assert load_amount("10000.00") == Decimal("10000.00")
    assert error_of("10000.01") == ["must be at most 10000.00"]


def test_without_bounds_an_amount_must_still_fit_the_column():
    schema = BalanceSchema()
    assert schema.load({"balance": "-999999999999.99"})["balance"] == -LARGEST
    assert schema.load({"balance": "999999999999.99"})["balance"] == LARGEST
    assert error_of("1000000000000.00", BalanceSchema, "balance") == [
        "must be at most 999999999999.99"]
    assert error_of("-1000000000000", BalanceSchema, "balance") == [
        "must be at least -999999999999.99"]
    assert error_of("1" * 5000, BalanceSchema, "balance") == ["must be at most 999999999999.99"]


def test_negative_zero_loads_as_zero():
    assert str(BalanceSchema().load({"balance": "-0.00"})["balance"]) == "0.00"


def test_dumps_exactly_two_places():
    assert GiftSchema().dump({"amount": Decimal("490982.52")}) == {"amount": "490982.52"}
    assert GiftSchema().dump({"amount": Decimal("5")}) == {"amount": "5.00"}
    assert GiftSchema().dump({"amount": Decimal("1E+3")}) == {"amount": "1000.00"}
    assert BalanceSchema().dump({"balance": None}) == {"balance": None}


def test_round_trip_is_exact():
    for text in ("490982.52", "0.01", "999999999999.99", "708000.00", "0.29", "1.15"):
        assert to_wire(BalanceSchema().load({"balance": text})["balance"]) == text


def test_to_wire():
    assert to_wire(Decimal("490982.52")) == "490982.52"
    assert to_wire(Decimal("0.1")) == "0.10"
    assert to_wire(Decimal("-0")) == "0.00"
    assert to_wire(3000) == "3000.00"


@pytest.mark.parametrize("value", [0.1, 12.5, True, "1.00", None])
def test_to_wire_refuses_floats_and_non_amounts(value):
    with pytest.raises(TypeError):
        to_wire(value)


@pytest.mark.parametrize("value", [Decimal("1.005"), Decimal("NaN"), Decimal("Infinity")])
def test_to_wire_never_rounds(value):
    with pytest.raises(ValueError):
        to_wire(value)


def test_bounds_must_be_money():
    with pytest.raises(TypeError):
        Money(maximum=100.5)
    with pytest.raises(ValueError):
        Money(minimum_exclusive=Decimal("0.001"))


def test_documented_as_a_string():
    field = GiftSchema().fields["amount"]
    assert field.metadata["example"] == "100.00"
