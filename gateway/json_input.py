"""What a request body must be before any handler sees it: `application/json` (415 otherwise),
JSON without duplicate keys (last-value-wins would hide a caller's mistake) and nested no
deeper than any body of this API needs (a deep document would exhaust Python's recursion in the
parser, the text check or marshmallow). Each is a 400/415 in the one error format."""
import json

from .errors import HttpError

# The deepest body of the API is a batch of gifts: object → list → object → value. 32 leaves
# room for any future body and stays far from Python's recursion limit.
MAX_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"


def check_content_type(mimetype: str, charset: str | None) -> None:
    """415 unless the body is declared as JSON (in UTF-8, the only encoding JSON has)."""
    if mimetype != JSON_MEDIA_TYPE:
        raise HttpError(415, "unsupported_media_type",
                        f"send the body as Content-Type: {JSON_MEDIA_TYPE}",
                        {"Content-Type": [f"must be {JSON_MEDIA_TYPE}, not "
                                          f"{mimetype or 'missing'}"]})
    if charset and charset.lower().replace("-", "") != "utf8":
        raise HttpError(415, "unsupported_media_type", "JSON bodies are UTF-8",
                        {"Content-Type": [f"charset must be utf-8, not {charset}"]})


def nesting_depth(document) -> int:
    """How deeply arrays and objects nest in a parsed document, counted without recursion."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        node, depth = pending.pop()
        children = (node.values() if isinstance(node, dict)
                    else node if isinstance(node, list) else None)
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _object_without_duplicates(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise HttpError(400, "malformed_json", f"the key {key!r} appears twice in an object",
                            {key: ["appears more than once"]})
        document[key] = value
    return document


def parse_json(raw: bytes):
    """The parsed document; 400 `malformed_json` for anything that is not plain, strict JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, "malformed_json", f"the body is not UTF-8: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant,
                              object_pairs_hook=_object_without_duplicates)
    except RecursionError:  # the parser gives up safely past Python's recursion limit
        raise _too_deep() from None
    except ValueError as exc:
        raise HttpError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if nesting_depth(document) > MAX_DEPTH:
        raise _too_deep()
    return document


def _too_deep() -> HttpError:
    return HttpError(400, "malformed_json", f"the body nests deeper than {MAX_DEPTH} levels",
                     {"_schema": [f"at most {MAX_DEPTH} levels of arrays and objects"]})
