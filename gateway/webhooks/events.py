"""The events the webhooks service forwards to county offices' receivers: the producers' own
contracts (their `events.py`), and per event type which org ids of its payload say whom it
concerns. The webhooks service publishes no events of its own.

An endpoint receives an event when one of those orgs lies in the endpoint org's subtree. The
body sent is the event's envelope with `data` dumped through the producer's contract, so a
receiver gets exactly the fields the contract documents (the gateway's OpenAPI `webhooks`
section is generated from the same schemas).

Payloads carry ids, never names, ID numbers or phone numbers: a receiver fetches the member
(`GET /api/v1/members/{member_id}`), the home task or the campaign with its own key, so the
tenancy check decides at read time what it is entitled to see, and no personal data sits in
delivery logs on either side.
"""
from dataclasses import dataclass

from services.donations import events as donations
from services.members import events as members
from services.plumbing.contract import EventContract
from services.plumbing.validation import dump
from services.services_desk import events as services_desk


@dataclass(frozen=True)
class Forwarded:
    contract: EventContract
    concerns: tuple           # payload fields holding the org ids the event concerns
    summary: str              # what a receiving org learns

    @property
    def event_type(self) -> str:
        return self.contract.event_type


MEMBER_FLOW_ORGS = ("home_org_id", "host_org_id", "previous_host_org_id")

FORWARDED = {f.event_type: f for f in (
    Forwarded(members.MEMBER_FLOWED_OUT, MEMBER_FLOW_ORGS,
              "The home org registered a member's flow-out to a host org (待报到)."),
    Forwarded(members.MEMBER_FLOW_ACCEPTED, MEMBER_FLOW_ORGS,
              "A host org took the member in (已流入), whichever way the member arrived: "
              "accepting a flow-out or a verified self-report (主动报到)."),
    Forwarded(members.MEMBER_MOVED, MEMBER_FLOW_ORGS,
              "The member moved to another host org (`previous_host_org_id` is the one left)."),
    Forwarded(members.MEMBER_RETURNED, MEMBER_FLOW_ORGS,
              "The member came home (回归); `host_org_id` is now null."),
    Forwarded(services_desk.HOME_TASK_CREATED, ("home_org_id",),
              "A service centre forwarded a request to the home county (收受分离); fetch it "
              "with `GET /api/v1/home-tasks/{task_id}`."),
    Forwarded(donations.CAMPAIGN_CLOSED, ("organiser_org_id",),
              "A campaign of the org stopped taking gifts, with its final cash and goods "
              "totals (decimal strings)."),
)}
EVENT_TYPES = sorted(FORWARDED)


def forwarded_data(event) -> dict:
    """The `data` a receiver gets: loaded through the producer's contract (a wrong type or
    version raises, and the event is retried, then parked) and dumped through it again."""
    contract = FORWARDED[event.event_type].contract
    return dump(contract.schema, contract.load(event))


def concerned_orgs(event_type: str, data: dict) -> list[str]:
    return [data[name] for name in FORWARDED[event_type].concerns if data.get(name)]
