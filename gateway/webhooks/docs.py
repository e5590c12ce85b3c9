"""The OpenAPI 3.1 `webhooks` section: one operation per forwarded event type, its body the
delivery envelope with `data` generated from the producer's event contract (the same schema
the webhooks service dumps the payload through), and the headers every delivery carries."""
from marshmallow import EXCLUDE

from .events import FORWARDED

HEADERS = (
    ("X-Liudong-Signature", "`t=<unix seconds>,v1=<hex>`: hex = HMAC-SHA256(endpoint secret, "
                            "t + '.' + raw body). Recompute it over the raw body and refuse a "
                            "`t` too far from your clock (`gateway.client.verify_signature`)."),
    ("X-Liudong-Event-Type", "The event type, the same as the body's `event_type`: route on it "
                             "without parsing the body."),
    ("X-Liudong-Event-Id", "The event's id, the same for every endpoint and every attempt: "
                           "deduplicate on it (delivery is at least once)."),
    ("X-Liudong-Delivery-Id", "This endpoint's delivery of the event; the same on retries and "
                              "replays (it names the entry in the delivery log)."),
)

RECEIVING = ("Sent to every enabled endpoint subscribed to `{event_type}` whose org's subtree "
             "contains one of the event's {concerns}. Payloads carry ids only, never names, ID "
             "numbers or phone numbers: fetch what you need with your own key (e.g. `GET "
             "/api/v1/members/{{member_id}}`), where your tenancy decides what you may see. "
             "Answer 2xx within the timeout; anything else is retried with exponential backoff, "
             "then marked failed (replayable). Redirects are not followed.")


def _schema_name(contract) -> str:
    return contract.schema.__name__


def webhooks_section(spec) -> dict:
    """Registers each contract's payload schema with `spec` and returns the `webhooks` map."""
    section = {}
    for event_type in sorted(FORWARDED):
        forwarded = FORWARDED[event_type]
        contract = forwarded.contract
        name = _schema_name(contract)
        if name not in spec.components.schemas:
            # EXCLUDE, as consumers load it: a producer may add fields within a version, so
            # a receiver ignores keys it does not know.
            spec.components.schema(name, schema=contract.schema(unknown=EXCLUDE))
        concerns = ", ".join(f"`data.{field}`" for field in forwarded.concerns)
        envelope = {
            "type": "object", "additionalProperties": False,
            "required": ["event_id", "event_type", "version", "occurred_at", "data"],
            "properties": {
                "event_id": {"type": "string", "format": "uuid"},
                "event_type": {"type": "string", "const": event_type},
                "version": {"type": "integer", "const": contract.version},
                "occurred_at": {"type": "string", "format": "date-time"},
                "data": {"$ref": f"#/components/schemas/{name}"},
            }}
        section[event_type] = {"post": {
            "operationId": f"webhook_{event_type}",
            "summary": forwarded.summary,
            "description": RECEIVING.format(event_type=event_type, concerns=concerns),
            "tags": ["webhooks"],
            "security": [],
            "parameters": [{"in": "header", "name": header, "required": True,
                            "description": description,
                            "schema": ({"type": "string", "const": event_type}
                                       if header == "X-Liudong-Event-Type"
                                       else {"type": "string"})}
                           for header, description in HEADERS],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": envelope}}},
            "responses": {"2XX": {"description": "Received (the body of your answer is "
                                                 "neither read nor kept)"}},
        }}
    return section
