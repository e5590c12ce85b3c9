"""Text a database can store: PostgreSQL refuses NUL characters, and a lone surrogate (valid in
JSON's \\u escapes) cannot be encoded as UTF-8."""


def storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
