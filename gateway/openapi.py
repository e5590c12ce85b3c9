"""The OpenAPI 3 document, generated from the route table and the services' marshmallow schemas."""
import importlib
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .errors import ErrorSchema
from .routes import ROUTES
from .schemas import HealthSchema

ERRORS = {
    "400": "Malformed JSON or invalid fields (`error.fields` says which and why)",
    "401": "Missing, unknown or revoked API key",
    "403": "The key's role may not call this route",
    "404": "No such object in the caller's tenant",
    "409": "Conflicts with the current state (duplicate, wrong status, reused idempotency key)",
    "413": "Body larger than the limit",
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


def build_document() -> dict:
    spec = APISpec(
        title="流动党员服务平台 API (mobile party members)", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "Registry of mobile party members, one-stop proxy desk and "
                             "fundraising. Every call but health and this document needs "
                             "`Authorization: Bearer <api key>`; the caller's tenant is the "
                             "key's org unit and its subtree. Request bodies reject unknown "
                             "fields, so tenant, status, totals and owners cannot be set by a "
                             "caller. Money is a decimal string with two places."},
        servers=[{"url": "/"}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.path(path="/api/v1/health", operations={"get": {
        "summary": "Broker and service health (no key needed)", "tags": ["operations"],
        "operationId": "health", "security": [],
        "responses": {"200": {"description": "all up", "content": {
                          "application/json": {"schema": HealthSchema}}},
                      "503": {"description": "something is down", "content": {
                          "application/json": {"schema": HealthSchema}}}}}})
    spec.path(path="/api/v1/openapi.json", operations={"get": {
        "summary": "This document", "tags": ["operations"], "operationId": "openapi",
        "security": [], "responses": {"200": {"description": "OpenAPI 3 document",
                                              "content": {"application/json": {"schema": {"type": "object"}}}}}}})

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
        responses = {str(route.status): success}
        if route.status == 201 and route.headers:
            responses["200"] = {"description": "a retry with the same Idempotency-Key: the "
                                               "original result", "content": success.get("content", {})}
        for code, description in ERRORS.items():
            if code == "413" and not route.body:
                continue
            responses[code] = {"description": description, "content": {
                "application/json": {"schema": "Error"}}}
        operation = {
            "operationId": route.name, "summary": route.summary, "tags": [route.tag],
            "security": [{"bearerAuth": []}], "parameters": parameters, "responses": responses,
            "description": "Roles allowed: " + ", ".join(f"`{r}`" for r in route.roles) + ".",
        }
        if route.body:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(route.body)}}}
        operations.setdefault(path, {})[route.method.lower()] = operation
    for path, ops in operations.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()
