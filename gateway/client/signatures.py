"""For a webhook receiver: check `X-Liudong-Signature` before trusting a delivery."""
from __future__ import annotations

import hashlib
import hmac
import time


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300,
                     now: float | None = None) -> bool:
    """Is `X-Liudong-Signature` (`t=<unix>,v1=<hex>`) right for this raw body, and recent?
    hex = HMAC-SHA256(secret, t + "." + raw body); a `t` more than `tolerance` seconds from
    your clock is refused (a replayed old request)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        presented = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, presented)
