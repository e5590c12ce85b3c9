"""Every route of /api/v1: who may call it, what it takes and returns, and which service call
answers it. The table drives dispatch, authorisation and the OpenAPI document alike.

Roles: `office` (a county office's or committee's system, its own subtree), `desk_staff` (a
service centre's staff), `ops` (health and read-only figures), `admin` (org units and keys).
A role not listed on a route gets 403; an object outside the caller's tenant gets 404.
"""
from dataclasses import dataclass, field
from typing import Callable

ALL_ROLES = ("office", "desk_staff", "ops", "admin")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str                      # werkzeug rule, e.g. /api/v1/members/<member_id>
    handler: Callable              # handler(ctx, **path_args) -> (status, body)
    summary: str
    tag: str
    roles: tuple = ()              # empty: no authentication (health, openapi)
    body: str | None = None        # "module:Schema" of the JSON body
    query: str | None = None       # "module:Schema" of the query string
    response: str | None = None    # "module:Schema" of a success body
    status: int = 200
    headers: tuple = field(default=())  # extra request headers documented: (name, description)


# -- handlers: thin, the service does the validation and the tenancy checks ------------------

def create_org_unit(ctx):
    return 201, ctx.call("members", "create_org_unit", ctx.json_body())


def list_org_units(ctx):
    return 200, {"items": ctx.call("members", "list_org_units")}


def get_org_unit(ctx, org_id):
    return 200, ctx.call("members", "get_org_unit", org_id)


def register_member(ctx):
    return 201, ctx.call("members", "register_member", ctx.json_body())


def get_member(ctx, member_id):
    return 200, ctx.call("members", "get_member", member_id)


def list_members(ctx):
    return 200, ctx.call("members", "list_members", ctx.query())


def submit_request(ctx):
    return 201, ctx.call("services_desk", "submit_request", ctx.json_body())


def claim_request(ctx, request_id):
    ctx.json_body(optional=True)
    return 200, ctx.call("services_desk", "claim_request", request_id)


def complete_request(ctx, request_id):
    return 200, ctx.call("services_desk", "complete_request", request_id, ctx.json_body())


def get_request(ctx, request_id):
    return 200, ctx.call("services_desk", "get_request", request_id)


def list_requests(ctx):
    return 200, ctx.call("services_desk", "list_requests", ctx.query())


def create_campaign(ctx):
    return 201, ctx.call("donations", "create_campaign", ctx.json_body())


def get_campaign(ctx, campaign_id):
    return 200, ctx.call("donations", "get_campaign", campaign_id)


def list_campaigns(ctx):
    return 200, ctx.call("donations", "list_campaigns", ctx.query())


def record_donation(ctx, campaign_id):
    donation = ctx.call("donations", "record_donation", campaign_id, ctx.json_body(),
                        ctx.idempotency_key())
    return (200 if donation.get("replayed") else 201), donation


MEMBERS = "services.members.schemas"
DESK = "services.services_desk.schemas"
DONATIONS = "services.donations.schemas"
IDEMPOTENCY = (("Idempotency-Key", "Up to 100 characters. A retry with the same key and body "
                "returns the first result (200); the same key with another body is a 409."),)

ROUTES = (
    Route("create_org_unit", "POST", "/api/v1/org-units", create_org_unit,
          "Create an org unit in a home-side or host-side tree", "org units", ("admin",),
          body=f"{MEMBERS}:OrgUnitCreateSchema", response=f"{MEMBERS}:OrgUnitSchema", status=201),
    Route("list_org_units", "GET", "/api/v1/org-units", list_org_units,
          "Org units in the caller's subtree", "org units", ALL_ROLES,
          response="gateway.schemas:OrgUnitListSchema"),
    Route("get_org_unit", "GET", "/api/v1/org-units/<org_id>", get_org_unit,
          "One org unit of the caller's subtree", "org units", ALL_ROLES,
          response=f"{MEMBERS}:OrgUnitSchema"),
    Route("register_member", "POST", "/api/v1/members", register_member,
          "Register a mobile party member", "members", ("office", "admin"),
          body=f"{MEMBERS}:MemberCreateSchema", response=f"{MEMBERS}:MemberSchema", status=201),
    Route("list_members", "GET", "/api/v1/members", list_members,
          "Members visible to the caller (home or host subtree), oldest first",
          "members", ("office", "desk_staff", "admin"),
          query=f"{MEMBERS}:MemberListQuerySchema", response=f"{MEMBERS}:MemberPageSchema"),
    Route("get_member", "GET", "/api/v1/members/<member_id>", get_member,
          "One member (ID number and phone masked)", "members", ("office", "desk_staff", "admin"),
          response=f"{MEMBERS}:MemberSchema"),
    Route("submit_request", "POST", "/api/v1/requests", submit_request,
          "Take in a proxy-service request at the caller's service centre", "requests",
          ("desk_staff", "office"), body=f"{DESK}:RequestSubmitSchema",
          response=f"{DESK}:RequestSchema", status=201),
    Route("list_requests", "GET", "/api/v1/requests", list_requests,
          "The caller's queue: requests of its centre (or subtree)", "requests",
          ("desk_staff", "office", "admin"), query=f"{DESK}:RequestListQuerySchema",
          response=f"{DESK}:RequestPageSchema"),
    Route("get_request", "GET", "/api/v1/requests/<request_id>", get_request,
          "One request", "requests", ("desk_staff", "office", "admin"),
          response=f"{DESK}:RequestSchema"),
    Route("claim_request", "POST", "/api/v1/requests/<request_id>/claim", claim_request,
          "Claim a request: the first claimer is its 首问 owner for good", "requests",
          ("desk_staff",), response=f"{DESK}:RequestSchema"),
    Route("complete_request", "POST", "/api/v1/requests/<request_id>/complete", complete_request,
          "Complete a request with its outcome", "requests", ("desk_staff",),
          body=f"{DESK}:RequestCompleteSchema", response=f"{DESK}:RequestSchema"),
    Route("create_campaign", "POST", "/api/v1/campaigns", create_campaign,
          "Open a fundraising campaign organised by the caller's org", "campaigns", ("office",),
          body=f"{DONATIONS}:CampaignCreateSchema", response=f"{DONATIONS}:CampaignSchema",
          status=201),
    Route("list_campaigns", "GET", "/api/v1/campaigns", list_campaigns,
          "Campaigns organised in the caller's subtree", "campaigns", ("office", "ops", "admin"),
          query=f"{DONATIONS}:CampaignListQuerySchema", response=f"{DONATIONS}:CampaignPageSchema"),
    Route("get_campaign", "GET", "/api/v1/campaigns/<campaign_id>", get_campaign,
          "One campaign with exact totals", "campaigns", ("office", "ops", "admin"),
          response=f"{DONATIONS}:CampaignSchema"),
    Route("record_donation", "POST", "/api/v1/campaigns/<campaign_id>/donations", record_donation,
          "Record a cash gift (amount as a decimal string, exact to the fen)", "campaigns",
          ("office",), body=f"{DONATIONS}:DonationCreateSchema",
          response=f"{DONATIONS}:DonationSchema", status=201, headers=IDEMPOTENCY),
)
