"""Writes `operations.py`: one method per operation of the OpenAPI document (standard library
only, so an installed client can be regenerated against a newer platform too).

    python -m gateway.client.generate                          # from this repository's gateway
    python -m liudong_client.generate https://…/api/v1/openapi.json   # from a running platform

Each method is named after the operation's `operationId`; path parameters come first, then the
required body fields (in the schema's order), then keyword-only optional body fields and query
parameters; `payload=` passes a whole body as a dict (arguments passed
override its keys). Operations that take an `Idempotency-Key` get
`idempotency_key=` (one is made per call when left out, and reused by the client's retries).
"""
from __future__ import annotations

import json
import keyword
import re
import sys
import textwrap
import urllib.request
from pathlib import Path

TARGET = Path(__file__).with_name("operations.py")
HEADER = '''"""Generated from the OpenAPI document by `python -m gateway.client.generate`.
Do not edit.

One method per operation (named after its operationId); see `Client` for the transport, the
retries and the errors raised."""
from __future__ import annotations

{standard_imports}

from .core import UNSET, Unset, seg


class Operations:
    """Every operation of the platform's HTTP API (mixed into `Client`, which provides
    `_operation`, `_body`, `_new_idempotency_key` and `paginate`)."""
'''
JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
              "array": "list", "object": "dict"}


def load_document(source: str | None) -> dict:
    if source is None:
        from gateway.openapi import build_document
        return build_document()
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=30) as response:
            return json.loads(response.read())
    return json.loads(Path(source).read_text())


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _python_type(schema: dict) -> str:
    types = schema.get("type", "object")
    types = types if isinstance(types, list) else [types]
    names = []
    for kind in types:
        if kind == "null":
            continue
        name = JSON_TYPES.get(kind, "Any")
        # money: a decimal string (two places) that may be passed as Decimal
        if name == "str" and re.fullmatch(r"-?\d+\.\d{2}", str(schema.get("example", ""))):
            name = "str | Decimal"
        names.append(name)
    if "anyOf" in schema or "allOf" in schema or not names:
        names = ["Any"]
    if "null" in types:
        names.append("None")
    return " | ".join(dict.fromkeys(names))


def _argument(name: str, taken: set) -> str:
    """A Python name for a field: keywords and names already taken get a trailing _."""
    argument = re.sub(r"\W", "_", name)
    while keyword.iskeyword(argument) or argument in taken:
        argument += "_"
    taken.add(argument)
    return argument


def _returns(operation: dict) -> str:
    for code, answer in operation["responses"].items():
        if not code.startswith("2"):
            continue
        if code == "204":
            return "None"
        content = answer.get("content", {})
        if "application/json" in content:
            return "dict"
        if any(kind.startswith("text/") for kind in content):
            return "str"
        if content:
            return "bytes"
    return "Any"


def method_source(document: dict, path: str, method: str, operation: dict) -> str:
    name = operation["operationId"]
    taken = {"self", "payload", "idempotency_key", "fields", "query"}
    path_params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    path_args = {p: _argument(p, taken) for p in path_params}
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    idempotent = any(p["in"] == "header" and p["name"] == "Idempotency-Key"
                     for p in operation.get("parameters", []))
    request_body = operation.get("requestBody")
    fields, required = {}, []
    if request_body:
        schema = _resolve(document, request_body["content"]["application/json"]["schema"])
        fields = schema.get("properties", {})
        if request_body.get("required", False):
            required = [f for f in fields if f in schema.get("required", [])]
    body_args = {f: _argument(f, taken) for f in fields}
    query_args = {p["name"]: _argument(p["name"], taken) for p in query}

    signature = ["self"] + [f"{path_args[p]}: str" for p in path_params]
    signature += [f"{body_args[f]}: {_python_type(fields[f])}" for f in required]
    keyword_only = [f"{body_args[f]}: {_python_type(fields[f])} | Unset = UNSET"
                    for f in fields if f not in required]
    keyword_only += [f"{query_args[p['name']]}: {_python_type(p.get('schema', {}))} | Unset = UNSET"
                     for p in query]
    if request_body:
        keyword_only.append("payload: dict | None = None")
    if idempotent:
        keyword_only.append("idempotency_key: str | None = None")
    if keyword_only:
        signature += ["*"] + keyword_only
    url = re.sub(r"{([a-z_]+)}", lambda m: "{seg(" + path_args[m.group(1)] + ")}", path)
    roles = operation.get("x-roles") or []
    summary = textwrap.fill(operation.get("summary", name).rstrip(".") + ".", width=88,
                            subsequent_indent=" " * 8)
    who = f"Roles: {', '.join(roles)}." if roles else "No key needed."
    lines = [f"    def {name}(", *[f"            {arg}," for arg in signature],
             f"    ) -> {_returns(operation)}:", f'        """{summary}', "",
             f"        `{method.upper()} {path}`", f'        {who}"""']
    call = [f'"{method.upper()}"', f'f"{url}"' if "{" in url else f'"{url}"']
    if request_body:
        lines += _dict_lines("fields", {f: body_args[f] for f in fields})
        call.append("body=self._body(payload, fields)")
    if query:
        lines += _dict_lines("query", {p["name"]: query_args[p["name"]] for p in query})
        call.append("query=query")
    if idempotent:
        call.append("idempotency_key=idempotency_key or self._new_idempotency_key()")
    lines.append("        return self._operation(")
    lines += [f"            {argument}," for argument in call]
    lines.append("        )")
    source = "\n".join(lines) + "\n"
    if method == "get" and "cursor" in query_args:
        source += _iterator_source(name, path_params, path_args, url)
    return source


def _dict_lines(variable: str, pairs: dict) -> list[str]:
    return ([f"        {variable} = {{"] + [f'            "{k}": {v},' for k, v in pairs.items()]
            + ["        }"])


def _iterator_source(name: str, path_params: list, path_args: dict, url: str) -> str:
    args = "".join(f"{path_args[p]}: str, " for p in path_params)
    target = f'f"{url}"' if "{" in url else f'"{url}"'
    return (f"\n    def iter_{name}(\n            self, {args}*, page_size: int = 100, "
            f"**filters,\n    ) -> Iterator[dict]:\n"
            f'        """Every item of `{name}`, page after page (follows next_cursor)."""\n'
            f"        return self.paginate(\n            {target},\n"
            f"            limit=page_size, **filters,\n        )\n")


def generate(document: dict) -> str:
    methods = [method_source(document, path, method, operation)
               for path, operations in document["paths"].items()
               for method, operation in operations.items()]
    body = "".join("\n" + source for source in methods)
    # the standard-library imports the body needs, in the order ruff's isort keeps them
    imports = [line for line, name in (("from collections.abc import Iterator", "Iterator"),
                                       ("from decimal import Decimal", "Decimal"),
                                       ("from typing import Any", "Any"))
               if re.search(rf"\b{name}\b", body)]
    return HEADER.replace("{standard_imports}", "\n".join(imports)) + body


def main(argv: list[str]) -> int:
    source = generate(load_document(argv[1] if len(argv) > 1 else None))
    TARGET.write_text(source)
    print(f"wrote {TARGET} ({source.count('    def ') - 2} methods)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
