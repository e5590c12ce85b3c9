"""Phone numbers: a mainland mobile or a landline with its area code. Shared: members and the
desk both take and mask requesters' phones."""
import re

PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"


def mask(phone: str) -> str:
    if re.fullmatch(r"1\d{10}", phone):
        return phone[:3] + "****" + phone[-4:]
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]
