"""Proxy-service requests (the services desk)."""
from .table import Route

DESK = "services.services_desk.schemas"


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


ROUTES = (
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
)
