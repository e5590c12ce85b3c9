"""`Client`: every generated operation (`operations.py`) on the transport (`core.py`), plus a
few shorter names for the common calls that county offices' programs already use."""
from __future__ import annotations

from collections.abc import Iterator

from .core import UNSET, BaseClient, seg
from .operations import Operations


class Client(BaseClient, Operations):
    """The platform's HTTP API. Every operation of the OpenAPI document is a method named after
    its operationId (`api.get_member(id)`, `api.replay_webhook_delivery(id)`, …); lists with a
    cursor also have `iter_<operation>()`, which follows `next_cursor` for you."""

    # -- shorter names, kept for programs written against the first client ----------------------
    def org_units(self) -> list[dict]:
        return self.list_org_units()["items"]

    def org_unit(self, org_id: str) -> dict:
        return self.get_org_unit(org_id)

    def create_org_unit(self, kind: str, name: str, parent_id: str | None = None,
                        **extra) -> dict:
        return super().create_org_unit(kind, name, parent_id=parent_id, **extra)

    def register_member(self, name: str, id_number: str, phone: str, home_org_id: str,
                        host_org_id: str | None = None, **extra) -> dict:
        if host_org_id is not None:
            extra["host_org_id"] = host_org_id
        return super().register_member(name, id_number, phone, home_org_id, **extra)

    def member(self, member_id: str) -> dict:
        return self.get_member(member_id)

    def members(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.iter_list_members(page_size=page_size, **filters)

    def proxy_request(self, request_id: str) -> dict:
        return self.get_request(request_id)

    def requests(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.iter_list_requests(page_size=page_size, **filters)

    def campaign(self, campaign_id: str) -> dict:
        return self.get_campaign(campaign_id)

    def campaigns(self, page_size: int = 100, **filters) -> Iterator[dict]:
        return self.iter_list_campaigns(page_size=page_size, **filters)

    def webhooks(self) -> list[dict]:
        return self.list_webhooks()["items"]

    def webhook_deliveries(self, webhook_id: str, page_size: int = 100) -> Iterator[dict]:
        return self.iter_list_webhook_deliveries(webhook_id, page_size=page_size)


__all__ = ["Client", "UNSET", "seg"]
