"""Org units and members (the members service)."""
from .table import ALL_ROLES, Route

MEMBERS = "services.members.schemas"


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
)
