"""Entrypoints of the donations service. Thin: unpack, call the domain modules, dump the reply."""
from decimal import Decimal

from nameko.dependency_providers import Config

from services.plumbing.entrypoints import HealthCheck, TenancyProjection
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.validation import load

from . import campaigns, gifts
from .models import PLUMBING, TENANCY, Base
from .schemas import (CampaignCreateSchema, CampaignListQuerySchema, CampaignPageSchema,
                      CampaignSchema, DonationCreateSchema, DonationSchema)


class DonationsService(HealthCheck, TenancyProjection):
    name = "donations"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()
    tenancy = TENANCY

    def _max_donation(self) -> Decimal:
        # Configured as a string such as "10000000.00"; str() also lets an int through exactly.
        return Decimal(str(self.config.get("DONATION_MAX_AMOUNT", gifts.DEFAULT_MAX_AMOUNT)))

    # -- campaigns ------------------------------------------------------------------------------
    @rpc
    def create_campaign(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(CampaignCreateSchema, body)
        with self.db.transaction() as tx:
            campaign = campaigns.create_campaign(tx, caller, data)
        return CampaignSchema().dump(campaigns.campaign_view(campaign, campaigns.Totals()))

    @rpc
    def get_campaign(self, caller, campaign_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            return CampaignSchema().dump(campaigns.campaign_views(session, [campaign])[0])

    @rpc
    def list_campaigns(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(CampaignListQuerySchema, params)
        with self.db.read() as session:
            found, next_cursor = campaigns.list_visible_campaigns(session, caller, query_params)
            return CampaignPageSchema().dump({
                "items": campaigns.campaign_views(session, found), "next_cursor": next_cursor})

    # -- gifts ----------------------------------------------------------------------------------
    @rpc
    def record_donation(self, caller, campaign_id, body, idempotency_key=None):
        caller = Caller.from_wire(caller)
        data = load(DonationCreateSchema, body, max_amount=self._max_donation())
        with self.db.transaction() as tx:
            donation, replayed = gifts.record_donation(tx, caller, campaign_id, data,
                                                       idempotency_key)
        return DonationSchema().dump(gifts.donation_view(donation, replayed))
