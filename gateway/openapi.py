"""The OpenAPI 3 document, generated from the route table and the services' marshmallow schemas."""
import importlib
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from services.plumbing.money import LARGEST, Money, to_wire

from .errors import ErrorSchema
from .routes import ROUTES
from .routes.operations import ROUTES as OPERATION_ROUTES
from .schemas import HealthSchema
from .webhooks.docs import webhooks_section

ERRORS = {
    "400": "Malformed JSON or invalid fields (`error.fields` says which and why)",
    "401": "Missing, unknown, expired or revoked API key (or console session)",
    "403": "The key's role may not call this route",
    "404": "No such object in the caller's tenant",
    "409": "Conflicts with the current state (duplicate, wrong status, reused idempotency key)",
    "413": "Body larger than the limit",
    "414": "URL (request line) longer than 8 KB",
    "415": "The body was not sent as `Content-Type: application/json` (UTF-8)",
    "429": "Too many requests for this key; wait `Retry-After` seconds",
    "503": "A service or the message broker is unavailable; retry later",
    "504": "A service did not answer in time; the outcome is unknown, retry with the same "
           "Idempotency-Key where the route takes one",
}


def _schema(ref: str):
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _schema_name(schema) -> str:
    name = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    return name[:-6] if name.endswith("Schema") else name


def _field_names(ref: str | None) -> set:
    if not ref:
        return set()
    schema = _schema(ref)
    return set((schema() if isinstance(schema, type) else schema).fields)


def _server_controlled(route) -> list:
    """Fields the answer has that a caller can never send (tenant, status, totals, owner, ...):
    the body rejects them as unknown."""
    return sorted(_field_names(route.response) - _field_names(route.body))


# The routes of gateway/routes/operations.py in the document (the console and the docs' files
# are not), with their replies written out: they are not the API's usual ones.
OPERATION_RESPONSES = {
    "health": {"200": {"description": "all up", "content": {
                   "application/json": {"schema": HealthSchema}}},
               "503": {"description": "something is down", "content": {
                   "application/json": {"schema": HealthSchema}}}},
    "openapi": {"200": {"description": "OpenAPI 3 document", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
    "docs": {"200": {"description": "HTML page", "content": {
                 "text/html": {"schema": {"type": "string"}}}}},
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying",
                               "schema": {"type": "integer"}}}


def _numeric_bounds_only_on_numbers(node) -> None:
    """apispec turns a Range validator on a decimal-string field (money) into `minimum:
    "1000.00"`, which is not valid OpenAPI. Keep such bounds as text (`x-minimum`/`x-maximum`
    and in the description) so the document stays valid and still says them."""
    if isinstance(node, dict):
        for bound in ("minimum", "maximum"):
            value = node.get(bound)
            types = node.get("type")
            if value is not None and "number" in (types if isinstance(types, list) else [types]):
                node[bound] = float(value)  # a JSON number field: a numeric bound
            elif value is not None and not isinstance(value, (int, float)):
                node.pop(bound)
                node[f"x-{bound}"] = str(value)
                word = "at least" if bound == "minimum" else "at most"
                node["description"] = (node.get("description", "") + f" ({word} {value})").strip()
        for value in node.values():
            _numeric_bounds_only_on_numbers(value)
    elif isinstance(node, list):
        for value in node:
            _numeric_bounds_only_on_numbers(value)


def _as_sent(self, field, ret=None, **_kwargs) -> dict:
    """What apispec cannot know from the field class: a Decimal dumped `as_string` is sent as a
    string (giving totals, hours), and Money's bounds (attributes, not validators) are part of
    the contract, kept as text like the Range bounds on money."""
    attributes = {}
    if isinstance(field, fields.Decimal) and field.as_string:
        nullable = isinstance((ret or {}).get("type"), list) and "null" in ret["type"]
        attributes["type"] = ["string", "null"] if nullable else "string"
        attributes["format"] = "decimal"
    if isinstance(field, Money):
        words = []
        if field.minimum_exclusive is not None:
            attributes["x-exclusive-minimum"] = to_wire(field.minimum_exclusive)
            words.append(f"more than {to_wire(field.minimum_exclusive)}")
        if field.maximum is not None and field.maximum < LARGEST:
            attributes["x-maximum"] = to_wire(field.maximum)
            words.append(f"at most {to_wire(field.maximum)}")
        if words:
            described = (ret or {}).get("description", "")
            attributes["description"] = (described + f" ({', '.join(words)})").strip()
    return attributes


def build_document() -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="流动党员服务平台 API (mobile party members)", version="1.0.0", openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": "Registry of mobile party members, one-stop proxy desk and "
                             "fundraising. Every call but health, this document and signing in "
                             "needs `Authorization: Bearer <api key or console session>`; the "
                             "caller's tenant is the key's org unit and its subtree (an object "
                             "outside it is a 404, exactly like a missing one). Request bodies "
                             "reject unknown fields (400), so tenant, status, totals and owners "
                             "cannot be set by a caller; each operation lists its "
                             "server-controlled fields. Money is a decimal string with two "
                             "places. Lists are cursor-paginated: pass `next_cursor` back as "
                             "`cursor`; pages are ordered oldest first by (created_at, id), so "
                             "rows inserted meanwhile never shift a page. Each key is rate "
                             "limited (429 with `Retry-After`). Every response carries "
                             "`X-Request-Id` (send your own to correlate). Webhooks: deliveries are "
                             "POSTed with `X-Liudong-Signature: t=<unix>,v1=<hex>` where hex = "
                             "HMAC-SHA256(endpoint secret, t + '.' + raw body); "
                             "`X-Liudong-Event-Type` names the event; deduplicate on "
                             "`X-Liudong-Event-Id`. Every event's payload is in the `webhooks` "
                             "section."},
        servers=[{"url": "/"}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    plugin.converter.add_attribute_function(_as_sent)
    spec.components.schema("Error", schema=ErrorSchema)
    for route in OPERATION_ROUTES:
        if route.name in OPERATION_RESPONSES:
            spec.path(path=route.path, operations={route.method.lower(): {
                "summary": route.summary, "tags": [route.tag], "operationId": route.name,
                "security": [], "responses": OPERATION_RESPONSES[route.name]}})

    operations: dict[str, dict] = {}
    for route in ROUTES:
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", route.path)
        parameters = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                      for name in re.findall(r"{([a-z_]+)}", path)]
        if route.query:
            parameters.append({"in": "query", "schema": _schema(route.query)})
        for name, description in route.headers:
            parameters.append({"in": "header", "name": name, "required": False,
                               "description": description, "schema": {"type": "string"}})
        success = {"description": "success"}
        if route.response:
            success["content"] = {"application/json": {"schema": _schema(route.response)}}
        if route.response and route.response_type != "application/json":
            success["content"] = {route.response_type: {"schema": {"type": "string"}}}
        elif route.response_type != "application/json":
            success["content"] = {route.response_type: {"schema": {"type": "string"}}}
        responses = {str(route.status): success}
        if route.status == 201 and route.headers:
            responses["200"] = {"description": "a retry with the same Idempotency-Key: the "
                                               "original result", "content": success.get("content", {})}
        for code, description in ERRORS.items():
            if code in ("413", "415") and not route.body:
                continue
            if route.public and code == "403":
                continue
            responses[code] = {"description": description, "content": {
                "application/json": {"schema": "Error"}}}
            if code in ("429", "503"):
                responses[code]["headers"] = RETRY_AFTER
        if route.public:
            responses["401"]["description"] = "Wrong credentials"
        description = ("No key needed." if route.public else
                       "Roles allowed: " + ", ".join(f"`{r}`" for r in route.roles) +
                       "; any other role gets 403.")
        controlled = _server_controlled(route) if route.body else []
        if controlled:
            description += (" Server-controlled fields (never accepted in the body; sending "
                            "one is a 400): " + ", ".join(f"`{f}`" for f in controlled) + ".")
        operation = {
            "operationId": route.name, "summary": route.summary, "tags": [route.tag],
            "security": [] if route.public else [{"bearerAuth": []}],
            "parameters": parameters, "responses": responses, "description": description,
            "x-roles": list(route.roles), "x-server-controlled-fields": controlled,
        }
        if route.body:
            operation["requestBody"] = {"required": not route.body_optional, "content": {
                "application/json": {"schema": _schema(route.body)}}}
            if route.upload:  # a file: also as a browser form or a spreadsheet tool sends it
                operation["requestBody"]["content"]["multipart/form-data"] = {"schema": {
                    "type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "format": {"type": "string", "enum": ["csv", "xlsx"]},
                        "filename": {"type": "string"}}}}
        operations.setdefault(path, {})[route.method.lower()] = operation
    for path, ops in operations.items():
        spec.path(path=path, operations=ops)
    webhooks = webhooks_section(spec)
    document = spec.to_dict()
    document["webhooks"] = webhooks
    _numeric_bounds_only_on_numbers(document)
    return document
