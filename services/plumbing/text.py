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


def first_unstorable(value, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) in a JSON document that a database
    cannot store, or None."""
    if isinstance(value, str):
        return None if storable(value) else (path or "_schema")
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not storable(str(key)):
                return path or "_schema"
            found = first_unstorable(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = first_unstorable(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def with_article(word: str) -> str:
    """The word after its indefinite article, for messages that name a role, a kind or a status:
    "an admin key", "an open campaign", "a desk_staff key"."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word
