"""Webhooks (the webhooks service): an org's endpoints, their delivery log, replay."""
from .table import Route

W = "gateway.webhooks.schemas"


def create_webhook(ctx):
    return ctx.call("webhooks", "create_webhook", ctx.json_body())


def list_webhooks(ctx):
    return ctx.call("webhooks", "list_webhooks")


def disable_webhook(ctx, webhook_id):
    return ctx.call("webhooks", "disable_webhook", webhook_id)


def list_deliveries(ctx, webhook_id):
    return ctx.call("webhooks", "list_deliveries", webhook_id, ctx.query())


def replay_delivery(ctx, delivery_id):
    ctx.json_body(optional=True)
    return ctx.call("webhooks", "replay_delivery", delivery_id)


ROUTES = (
    Route("create_webhook", "POST", "/api/v1/webhooks", create_webhook,
          "Register an endpoint for event types; events inside the key's org subtree are "
          "POSTed to it, signed (payloads: the document's `webhooks` section). Only http(s) "
          "URLs of public hosts", "webhooks", ("office",), body=f"{W}:WebhookCreateSchema",
          response=f"{W}:WebhookCreatedSchema", status=201),
    Route("list_webhooks", "GET", "/api/v1/webhooks", list_webhooks,
          "The endpoints of the caller's subtree (never their secrets)", "webhooks",
          ("office", "admin"), response=f"{W}:WebhookListSchema"),
    Route("disable_webhook", "POST", "/api/v1/webhooks/<webhook_id>/disable", disable_webhook,
          "Stop sending to an endpoint: nothing more is sent to it (deliveries still waiting "
          "fail, saying why; replaying one is a 409)", "webhooks", ("office", "admin"),
          response=f"{W}:WebhookSchema"),
    Route("list_webhook_deliveries", "GET", "/api/v1/webhooks/<webhook_id>/deliveries",
          list_deliveries, "Delivery log: every event sent, every attempt with the response "
          "code and a short reason of the platform's own (never the receiver's answer), oldest "
          "first", "webhooks", ("office", "admin"),
          query=f"{W}:DeliveryListQuerySchema", response=f"{W}:DeliveryPageSchema"),
    Route("replay_webhook_delivery", "POST", "/api/v1/webhook-deliveries/<delivery_id>/replay",
          replay_delivery, "Send a delivery again (after a fix on the receiver's side), as a "
          "new round of attempts; 409 if the webhook is disabled",
          "webhooks", ("office", "admin"), response=f"{W}:DeliverySchema"),
)
