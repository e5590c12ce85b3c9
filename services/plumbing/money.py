"""Money on the wire: amounts in yuan as JSON strings exact to the fen, such as "490982.52".

A JSON number would reach Python as a float, which may already have lost the fen before any
code sees it, so the `Money` field accepts only strings and no float ever enters. Values are
`Decimal` in Python and `Numeric(14, 2)` in the databases; replies carry exactly two places.
"""
import re
from decimal import Decimal

from marshmallow import fields

CENT = Decimal("0.01")
# The largest amount a Numeric(14, 2) column holds; a field never accepts more than this.
LARGEST = Decimal("999999999999.99")
# Plain decimal notation only. Decimal() alone would also take exponents, NaN, Infinity,
# surrounding spaces, "1_000" and non-ASCII digits, none of which belong in an amount.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.(?P<fraction>[0-9]+))?")


def to_wire(amount: Decimal) -> str:
    """The amount as a string with exactly two places. Refuses a float, and an amount with a
    part smaller than a fen: that would be rounded silently, which money never is."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"an amount must be a Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"an amount must be finite, not {amount}")
    in_fen = amount.quantize(CENT)
    if in_fen != amount:
        raise ValueError(f"{amount} has a part smaller than a fen")
    return format(_without_sign_on_zero(in_fen), "f")


def _without_sign_on_zero(amount: Decimal) -> Decimal:
    return amount.copy_abs() if amount == 0 else amount


class Money(fields.String):
    """An amount in yuan: a JSON string with at most two decimal places, loaded as a `Decimal`
    quantized to the fen and dumped as a string with exactly two places.

    `minimum_exclusive` and `maximum` bound the amount (`Decimal`s); whatever they say, an
    amount must fit a Numeric(14, 2) column. A subclass of String so that OpenAPI documents it
    as a string."""

    default_error_messages = {
        "invalid": 'must be a string such as "100.00"',
        "not_a_number": 'must be an amount in yuan such as "100.00"',
        "too_many_places": "must have at most 2 decimal places",
        "too_small": "must be greater than {minimum_exclusive}",
        "below_range": "must be at least {minimum}",
        "too_large": "must be at most {maximum}",
    }

    def __init__(self, *, minimum_exclusive: Decimal | None = None,
                 maximum: Decimal | None = None, **kwargs):
        metadata = {"example": "100.00", **(kwargs.pop("metadata", None) or {})}
        super().__init__(metadata=metadata, **kwargs)
        for bound in (minimum_exclusive, maximum):
            if bound is not None:
                to_wire(bound)  # a bound is money too: a Decimal, exact to the fen
        self.minimum_exclusive = minimum_exclusive
        self.maximum = maximum

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else to_wire(value)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        match = PLAIN_DECIMAL.fullmatch(value)
        if match is None:
            raise self.make_error("not_a_number")
        # "1.50" and "1.500" are the same amount; "1.005" has half a fen.
        if len((match.group("fraction") or "").rstrip("0")) > 2:
            raise self.make_error("too_many_places")
        amount = Decimal(value)
        self._check_bounds(amount)
        return _without_sign_on_zero(amount.quantize(CENT))

    def _check_bounds(self, amount: Decimal) -> None:
        if self.minimum_exclusive is not None and amount <= self.minimum_exclusive:
            raise self.make_error("too_small", minimum_exclusive=to_wire(self.minimum_exclusive))
        if amount < -LARGEST:
            raise self.make_error("below_range", minimum=to_wire(-LARGEST))
        ceiling = LARGEST if self.maximum is None else min(self.maximum, LARGEST)
        if amount > ceiling:
            raise self.make_error("too_large", maximum=to_wire(ceiling))


class Quantity(Money):
    """A quantity of goods (boxes, tonnes, sets): a JSON string with at most two decimal
    places, greater than zero, loaded as a `Decimal`. Exact for the same reason money is."""

    default_error_messages = {
        "invalid": 'must be a string such as "100"',
        "not_a_number": 'must be a quantity such as "100" or "2.5"',
    }

    def __init__(self, **kwargs):
        metadata = {"example": "100.00", **(kwargs.pop("metadata", None) or {})}
        super().__init__(minimum_exclusive=Decimal("0"), metadata=metadata, **kwargs)
