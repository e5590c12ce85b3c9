"""Webhooks: a small nameko service ("webhooks") that forwards platform events to the HTTP
endpoints county offices register, signed, retried with backoff, logged and replayable; only
events inside the endpoint's org subtree. The gateway's /api/v1/webhooks routes call it over
RPC."""
