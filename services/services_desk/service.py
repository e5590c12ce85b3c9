"""Entrypoints of the services desk. Thin: unpack, call the domain modules, dump the reply."""

from services.plumbing.entrypoints import HealthCheck, TenancyProjection
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.validation import load

from . import proxy_requests
from .models import PLUMBING, TENANCY, Base
from .schemas import (RequestCompleteSchema, RequestDetailSchema, RequestListQuerySchema,
                      RequestPageSchema, RequestSchema, RequestSubmitSchema)


class ServicesDeskService(HealthCheck, TenancyProjection):
    name = "services_desk"

    db = Database(Base.metadata, PLUMBING)
    metrics = Metrics()
    log_context = LogContext()
    tenancy = TENANCY

    # -- requests -------------------------------------------------------------------------------
    @rpc
    def submit_request(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(RequestSubmitSchema, body)
        with self.db.transaction() as tx:
            request = proxy_requests.submit_request(tx, caller, data)
            return RequestSchema().dump(proxy_requests.request_view(request))

    @rpc
    def claim_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.transaction() as tx:
            request = proxy_requests.claim_request(tx, caller, request_id)
            return RequestSchema().dump(proxy_requests.request_view(request))

    @rpc
    def complete_request(self, caller, request_id, body):
        caller = Caller.from_wire(caller)
        data = load(RequestCompleteSchema, body)
        with self.db.transaction() as tx:
            request = proxy_requests.complete_request(tx, caller, request_id, data)
            return RequestSchema().dump(proxy_requests.request_view(request))

    @rpc
    def get_request(self, caller, request_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            request = proxy_requests.get_request(session, caller, request_id)
            return RequestDetailSchema().dump(proxy_requests.request_detail_view(session, request))

    @rpc
    def list_requests(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(RequestListQuerySchema, params)
        with self.db.read() as session:
            rows, next_cursor = proxy_requests.list_requests(session, caller, query_params)
            return RequestPageSchema().dump({
                "items": [proxy_requests.request_view(r) for r in rows], "next_cursor": next_cursor})
