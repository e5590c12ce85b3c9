"""Entrypoints of the donations service. Thin: unpack, call the domain modules, dump the reply."""
from decimal import Decimal

from nameko.dependency_providers import Config

from services.members import events as member_events
from services.plumbing.clock import today_in_china
from services.plumbing.entrypoints import HealthCheck, TenancyProjection
from services.plumbing.metrics import Metrics
from services.plumbing.providers import Database, LogContext
from services.plumbing.rpc import Caller, rpc
from services.plumbing.timer import configured_timer
from services.plumbing.validation import dump, load

from . import campaigns, disbursements, gifts, ledger, reconcile
from .models import PLUMBING, TENANCY, Base
from .schemas import (
    CampaignCreateSchema,
    CampaignListQuerySchema,
    CampaignPageSchema,
    CampaignSchema,
    DisbursementApproveSchema,
    DisbursementCreateSchema,
    DisbursementListSchema,
    DisbursementPaySchema,
    DisbursementRejectSchema,
    DisbursementSchema,
    DonationBatchCreateSchema,
    DonationBatchSchema,
    DonationCreateSchema,
    DonationSchema,
    DonationVoidSchema,
    InKindDonationCreateSchema,
    LedgerExportQuerySchema,
    LedgerExportSchema,
    LedgerQuerySchema,
    LedgerSchema,
    MemberGivingSchema,
    OrganiserTotalsListSchema,
    PublicLedgerSchema,
    ReconciliationSchema,
)

# How often the closing timer looks for campaigns past their last day, unless the
# DONATION_CLOSING_SECONDS setting says otherwise.
CLOSING_TIMER_SECONDS = 60.0


class DonationsService(HealthCheck, TenancyProjection):
    name = "donations"

    db = Database(Base.metadata, PLUMBING)
    config = Config()
    metrics = Metrics()
    log_context = LogContext()
    tenancy = TENANCY
    tenancy_contracts = member_events.PUBLISHES

    def _max_donation(self) -> Decimal:
        # Configured as a string such as "10000000.00"; str() also lets an int through exactly.
        return Decimal(str(self.config.get("DONATION_MAX_AMOUNT", gifts.DEFAULT_MAX_AMOUNT)))

    # -- campaigns ------------------------------------------------------------------------------
    def _campaign_reply(self, campaign_id) -> dict:
        with self.db.read() as session:
            campaign = session.get(campaigns.Campaign, campaign_id)
            return dump(CampaignSchema, campaigns.campaign_views(session, [campaign])[0])

    @rpc
    def create_campaign(self, caller, body):
        caller = Caller.from_wire(caller)
        data = load(CampaignCreateSchema, body)
        with self.db.transaction() as tx:
            campaign = campaigns.create_campaign(tx, caller, data)
        return self._campaign_reply(campaign.id)

    @rpc
    def open_campaign(self, caller, campaign_id):
        with self.db.transaction() as tx:
            campaign = campaigns.open_campaign(tx, Caller.from_wire(caller), campaign_id)
        return self._campaign_reply(campaign.id)

    @rpc
    def close_campaign(self, caller, campaign_id):
        with self.db.transaction() as tx:
            campaign = campaigns.close_campaign(tx, Caller.from_wire(caller), campaign_id)
        return self._campaign_reply(campaign.id)

    @rpc
    def settle_campaign(self, caller, campaign_id):
        with self.db.transaction() as tx:
            campaign = campaigns.settle_campaign(tx, Caller.from_wire(caller), campaign_id)
        return self._campaign_reply(campaign.id)

    @configured_timer(interval=CLOSING_TIMER_SECONDS, setting="DONATION_CLOSING_SECONDS")
    def close_due_campaigns(self):
        """Closes campaigns past their last day (China time), each with one campaign_closed."""
        with self.db.transaction() as tx:
            return campaigns.close_due_campaigns(tx, today_in_china())

    @rpc
    def get_campaign(self, caller, campaign_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            return dump(CampaignSchema, campaigns.campaign_views(session, [campaign])[0])

    @rpc
    def list_campaigns(self, caller, params):
        caller = Caller.from_wire(caller)
        query_params = load(CampaignListQuerySchema, params)
        with self.db.read() as session:
            found, next_cursor = campaigns.list_visible_campaigns(session, caller, query_params)
            return dump(CampaignPageSchema, {
                "items": campaigns.campaign_views(session, found), "next_cursor": next_cursor})

    # -- gifts ----------------------------------------------------------------------------------
    @rpc
    def record_donation(self, caller, campaign_id, body, idempotency_key=None):
        caller = Caller.from_wire(caller)
        data = load(DonationCreateSchema, body, max_amount=self._max_donation())
        with self.db.transaction() as tx:
            donation, replayed = gifts.record_donation(tx, caller, campaign_id, data,
                                                       idempotency_key)
        return dump(DonationSchema, gifts.donation_view(donation, replayed))

    @rpc
    def record_in_kind_donation(self, caller, campaign_id, body, idempotency_key=None):
        caller = Caller.from_wire(caller)
        data = load(InKindDonationCreateSchema, body)
        with self.db.transaction() as tx:
            donation, replayed = gifts.record_in_kind_donation(tx, caller, campaign_id, data,
                                                               idempotency_key)
            return dump(DonationSchema,
                        gifts.donation_views(tx.session, [donation], replayed)[0])

    @rpc
    def record_donation_batch(self, caller, campaign_id, body, idempotency_key=None):
        caller = Caller.from_wire(caller)
        data = load(DonationBatchCreateSchema, body, max_amount=self._max_donation())
        with self.db.transaction() as tx:
            batch, recorded, replayed = gifts.record_batch(tx, caller, campaign_id, data,
                                                           idempotency_key)
            return dump(DonationBatchSchema, {
                "id": batch.id, "campaign_id": batch.campaign_id, "reference": batch.reference,
                "declared_count": batch.declared_count, "declared_total": batch.declared_total,
                "gifts": gifts.donation_views(tx.session, recorded, replayed),
                "replayed": replayed})

    @rpc
    def get_donation(self, caller, campaign_id, donation_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            donation = gifts.get_donation(session, caller, campaign_id, donation_id)
            return dump(DonationSchema, gifts.donation_views(session, [donation])[0])

    @rpc
    def void_donation(self, caller, campaign_id, donation_id, body):
        caller = Caller.from_wire(caller)
        data = load(DonationVoidSchema, body)
        with self.db.transaction() as tx:
            donation = gifts.void_donation(tx, caller, campaign_id, donation_id, data["reason"])
            return dump(DonationSchema, gifts.donation_views(tx.session, [donation])[0])

    # -- disbursements --------------------------------------------------------------------------
    def _disbursement_reply(self, tx, disbursement) -> dict:
        return dump(DisbursementSchema,
                    disbursements.disbursement_view(tx.session, disbursement))

    @rpc
    def request_disbursement(self, caller, campaign_id, body):
        caller = Caller.from_wire(caller)
        data = load(DisbursementCreateSchema, body)
        with self.db.transaction() as tx:
            found = disbursements.request_disbursement(tx, caller, campaign_id, data)
            return self._disbursement_reply(tx, found)

    @rpc
    def approve_disbursement(self, caller, campaign_id, disbursement_id, body):
        caller = Caller.from_wire(caller)
        data = load(DisbursementApproveSchema, body)
        with self.db.transaction() as tx:
            found = disbursements.approve_disbursement(tx, caller, campaign_id, disbursement_id,
                                                       data["approver"])
            return self._disbursement_reply(tx, found)

    @rpc
    def pay_disbursement(self, caller, campaign_id, disbursement_id, body):
        caller = Caller.from_wire(caller)
        data = load(DisbursementPaySchema, body)
        with self.db.transaction() as tx:
            found = disbursements.pay_disbursement(tx, caller, campaign_id, disbursement_id, data)
            return self._disbursement_reply(tx, found)

    @rpc
    def reject_disbursement(self, caller, campaign_id, disbursement_id, body):
        caller = Caller.from_wire(caller)
        data = load(DisbursementRejectSchema, body)
        with self.db.transaction() as tx:
            found = disbursements.reject_disbursement(tx, caller, campaign_id, disbursement_id,
                                                      data["reason"])
            return self._disbursement_reply(tx, found)

    @rpc
    def list_disbursements(self, caller, campaign_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            return dump(DisbursementListSchema, {"items": [
                disbursements.disbursement_view(session, found)
                for found in disbursements.list_disbursements(session, campaign)]})

    # -- ledger, reports ------------------------------------------------------------------------
    @rpc
    def get_ledger(self, caller, campaign_id, params):
        """With a key: the full ledger of a campaign in the caller's subtree. For the public
        caller (no key): only a campaign marked public, donors as they chose, no member ids."""
        caller = Caller.from_wire(caller)
        query = load(LedgerQuerySchema, params)
        with self.db.read() as session:
            if caller.is_public:
                campaign = campaigns.get_public_campaign(session, campaign_id)
            else:
                campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            return dump(PublicLedgerSchema if caller.is_public else LedgerSchema,
                        ledger.ledger(session, campaign, public=caller.is_public, **query))

    @rpc
    def export_ledger(self, caller, campaign_id, params):
        caller = Caller.from_wire(caller)
        query = load(LedgerExportQuerySchema, params)
        with self.db.read() as session:
            campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            return dump(LedgerExportSchema, ledger.export(session, campaign, query["format"]))

    @rpc
    def reconcile_campaign(self, caller, campaign_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            campaign = campaigns.get_visible_campaign(session, caller, campaign_id)
            result = reconcile.reconcile_campaign(session, campaign)
            return dump(ReconciliationSchema, {**vars(result), "ok": result.ok})

    @rpc
    def organiser_totals(self, caller):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(OrganiserTotalsListSchema,
                        {"items": campaigns.organiser_totals(session, caller)})

    @rpc
    def member_giving(self, caller, member_id):
        caller = Caller.from_wire(caller)
        with self.db.read() as session:
            return dump(MemberGivingSchema, campaigns.member_giving(session, caller, member_id))
