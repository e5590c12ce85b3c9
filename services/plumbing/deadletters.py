"""List and replay parked events.

    python -m services.plumbing.deadletters list [--consumer services_desk.on_member_registered]
    python -m services.plumbing.deadletters replay --consumer C [--event-id ID]

Replay moves parked deliveries back onto their consumer's main queue with a fresh retry count;
the handler's idempotency record makes a replay of an already-applied event harmless.
"""
import argparse
import json
import sys

from kombu import Connection

from . import config
from .outbox import EventPublisher
from .subscriber import ATTEMPT_HEADER
from .topology import Subscription, all_subscriptions, load_service_class


def platform_subscriptions(consumer: str | None = None) -> list[Subscription]:
    from services import SERVICE_CLASSES
    subs = all_subscriptions([load_service_class(p) for p in SERVICE_CLASSES.values()])
    if consumer:
        subs = [s for s in subs if s.consumer == consumer]
        if not subs:
            raise SystemExit(f"no consumer named {consumer}")
    return subs


def _describe(message) -> dict:
    try:
        body = json.loads(message.body)
    except (ValueError, TypeError):
        body = {}
    headers = message.headers or {}
    return {"event_id": body.get("event_id"), "event_type": body.get("event_type"),
            "producer": body.get("producer"), "attempts": headers.get(ATTEMPT_HEADER, 0) + 1,
            "last_error": headers.get("x-last-error")}


def list_parked(amqp_uri: str, subs: list[Subscription], limit: int = 1000) -> list[dict]:
    """Reads without consuming: the channel is closed without acks, so every message stays."""
    parked = []
    with Connection(amqp_uri) as conn:
        for sub in subs:
            channel = conn.channel()
            try:
                for _ in range(limit):
                    message = channel.basic_get(sub.parked_queue_name, no_ack=False)
                    if message is None:
                        break
                    parked.append({"consumer": sub.consumer, **_describe(message)})
            finally:
                channel.close()
    return parked


def replay(amqp_uri: str, sub: Subscription, event_id: str | None = None) -> int:
    """Moves parked deliveries (all, or one event) back to the consumer's queue."""
    publisher = EventPublisher(amqp_uri)
    moved = 0
    try:
        with Connection(amqp_uri) as conn:
            channel = conn.channel()
            keep = []
            while True:
                message = channel.basic_get(sub.parked_queue_name, no_ack=False)
                if message is None:
                    break
                if event_id and _describe(message)["event_id"] != event_id:
                    keep.append(message)
                    continue
                headers = {k: v for k, v in (message.headers or {}).items()
                           if k not in (ATTEMPT_HEADER, "x-death", "x-delivery-count",
                                        "x-first-death-exchange",
                                        "x-first-death-queue", "x-first-death-reason",
                                        "x-last-death-exchange", "x-last-death-queue",
                                        "x-last-death-reason")}
                publisher.publish_raw(message.body, sub.queue_name, headers,
                                      message.content_type, message.content_encoding)
                channel.basic_ack(message.delivery_tag)
                moved += 1
            channel.close()  # the ones kept go back to the parked queue unacked
    finally:
        publisher.close()
    return moved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amqp-uri", default=config.amqp_uri())
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list parked events")
    listing.add_argument("--consumer")
    again = commands.add_parser("replay", help="move parked events back to their queue")
    again.add_argument("--consumer", required=True)
    again.add_argument("--event-id")
    args = parser.parse_args(argv)
    if args.command == "list":
        for row in list_parked(args.amqp_uri, platform_subscriptions(args.consumer)):
            print(json.dumps(row, ensure_ascii=False))
    else:
        sub = platform_subscriptions(args.consumer)[0]
        print(f"replayed {replay(args.amqp_uri, sub, args.event_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
