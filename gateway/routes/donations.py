"""Campaigns, gifts, disbursements, the ledger and its reports (the donations service)."""
from .files import XLSX_TYPE, download
from .table import Reply, Route

DONATIONS = "services.donations.schemas"
IDEMPOTENCY = (("Idempotency-Key", "Up to 100 characters. A retry with the same key and body "
                "returns the first result (200); the same key with another body is a 409."),)
XLSX = XLSX_TYPE
MANAGERS = ("office",)
# who reads campaigns, gifts and ledgers: the organisers' offices, ops and admins
DONATION_READERS = ("office", "ops", "admin")


def create_campaign(ctx):
    return ctx.call("donations", "create_campaign", ctx.json_body())


def get_campaign(ctx, campaign_id):
    return ctx.call("donations", "get_campaign", campaign_id)


def list_campaigns(ctx):
    return ctx.call("donations", "list_campaigns", ctx.query())


def _step(method):
    def handler(ctx, campaign_id):
        ctx.json_body(optional=True)  # no body needed; a malformed one is still a 400
        return ctx.call("donations", method, campaign_id)
    return handler


def _created_or_replayed(reply):
    """201 for a gift recorded now; 200 with the first result for a retry with the same
    Idempotency-Key (documented with the route's IDEMPOTENCY header)."""
    return Reply(200 if reply.get("replayed") else 201, reply)


def record_donation(ctx, campaign_id):
    return _created_or_replayed(ctx.call("donations", "record_donation", campaign_id,
                                         ctx.json_body(), ctx.idempotency_key()))


def record_in_kind_donation(ctx, campaign_id):
    return _created_or_replayed(ctx.call("donations", "record_in_kind_donation", campaign_id,
                                         ctx.json_body(), ctx.idempotency_key()))


def record_donation_batch(ctx, campaign_id):
    return _created_or_replayed(ctx.call("donations", "record_donation_batch", campaign_id,
                                         ctx.json_body(), ctx.idempotency_key()))


def get_donation(ctx, campaign_id, donation_id):
    return ctx.call("donations", "get_donation", campaign_id, donation_id)


def void_donation(ctx, campaign_id, donation_id):
    return ctx.call("donations", "void_donation", campaign_id, donation_id, ctx.json_body())


def request_disbursement(ctx, campaign_id):
    return ctx.call("donations", "request_disbursement", campaign_id, ctx.json_body())


def list_disbursements(ctx, campaign_id):
    return ctx.call("donations", "list_disbursements", campaign_id)


def _disbursement_step(method):
    def handler(ctx, campaign_id, disbursement_id):
        return ctx.call("donations", method, campaign_id, disbursement_id, ctx.json_body())
    return handler


def get_ledger(ctx, campaign_id):
    return ctx.call("donations", "get_ledger", campaign_id, ctx.query())


def get_public_ledger(ctx, campaign_id):
    return ctx.call("donations", "get_ledger", campaign_id, ctx.query())


def _export(file_format):
    def handler(ctx, campaign_id):
        return download(ctx.call("donations", "export_ledger", campaign_id,
                                 {"format": file_format}))
    return handler


def reconcile_campaign(ctx, campaign_id):
    return ctx.call("donations", "reconcile_campaign", campaign_id)


def organiser_totals(ctx):
    return ctx.call("donations", "organiser_totals")


def member_giving(ctx, member_id):
    return ctx.call("donations", "member_giving", member_id)


CAMPAIGN = "/api/v1/campaigns/<campaign_id>"
DISBURSEMENT = f"{CAMPAIGN}/disbursements/<disbursement_id>"

ROUTES = (
    Route("create_campaign", "POST", "/api/v1/campaigns", create_campaign,
          "Open (or draft) a fundraising campaign organised by the caller's org", "campaigns",
          MANAGERS, body=f"{DONATIONS}:CampaignCreateSchema",
          response=f"{DONATIONS}:CampaignSchema", status=201),
    Route("list_campaigns", "GET", "/api/v1/campaigns", list_campaigns,
          "Campaigns organised in the caller's subtree", "campaigns", DONATION_READERS,
          query=f"{DONATIONS}:CampaignListQuerySchema", response=f"{DONATIONS}:CampaignPageSchema"),
    Route("get_campaign", "GET", CAMPAIGN, get_campaign,
          "One campaign with exact totals (cash and goods apart)", "campaigns", DONATION_READERS,
          response=f"{DONATIONS}:CampaignSchema"),
    Route("open_campaign", "POST", f"{CAMPAIGN}/open", _step("open_campaign"),
          "Open a draft campaign (emits campaign_opened)", "campaigns", MANAGERS,
          response=f"{DONATIONS}:CampaignSchema"),
    Route("close_campaign", "POST", f"{CAMPAIGN}/close", _step("close_campaign"),
          "Close an open campaign by hand (emits campaign_closed); later gifts are marked late",
          "campaigns", MANAGERS, response=f"{DONATIONS}:CampaignSchema"),
    Route("settle_campaign", "POST", f"{CAMPAIGN}/settle", _step("settle_campaign"),
          "Settle a closed campaign: every yuan handed over, nothing pending", "campaigns",
          MANAGERS, response=f"{DONATIONS}:CampaignSchema"),
    Route("record_donation", "POST", f"{CAMPAIGN}/donations", record_donation,
          "Record a cash gift (amount as a decimal string, exact to the fen)", "gifts",
          MANAGERS, body=f"{DONATIONS}:DonationCreateSchema",
          response=f"{DONATIONS}:DonationSchema", status=201, headers=IDEMPOTENCY),
    Route("record_in_kind_donation", "POST", f"{CAMPAIGN}/in-kind-donations",
          record_in_kind_donation,
          "Record a gift of goods: items with quantity, unit and valuation, and the valuer",
          "gifts", MANAGERS, body=f"{DONATIONS}:InKindDonationCreateSchema",
          response=f"{DONATIONS}:DonationSchema", status=201, headers=IDEMPOTENCY),
    Route("record_donation_batch", "POST", f"{CAMPAIGN}/donation-batches",
          record_donation_batch,
          "Enter a paper list of cash gifts: all or nothing, when count and total match",
          "gifts", MANAGERS, body=f"{DONATIONS}:DonationBatchCreateSchema",
          response=f"{DONATIONS}:DonationBatchSchema", status=201, headers=IDEMPOTENCY),
    Route("get_donation", "GET", f"{CAMPAIGN}/donations/<donation_id>", get_donation,
          "One gift (its receipt: number, donor, amount or goods, late, voided)", "gifts",
          DONATION_READERS, response=f"{DONATIONS}:DonationSchema"),
    Route("void_donation", "POST", f"{CAMPAIGN}/donations/<donation_id>/void", void_donation,
          "Void a wrong entry with a reason (kept in the ledger; totals follow)", "gifts",
          MANAGERS, body=f"{DONATIONS}:DonationVoidSchema", response=f"{DONATIONS}:DonationSchema"),
    Route("request_disbursement", "POST", f"{CAMPAIGN}/disbursements", request_disbursement,
          "Ask to hand cash or goods to a beneficiary (approval comes next)", "disbursements",
          MANAGERS, body=f"{DONATIONS}:DisbursementCreateSchema",
          response=f"{DONATIONS}:DisbursementSchema", status=201),
    Route("list_disbursements", "GET", f"{CAMPAIGN}/disbursements", list_disbursements,
          "A campaign's disbursements, every status", "disbursements", DONATION_READERS,
          response=f"{DONATIONS}:DisbursementListSchema"),
    Route("approve_disbursement", "POST", f"{DISBURSEMENT}/approve",
          _disbursement_step("approve_disbursement"),
          "Approve: promises the cash or goods; 409 when not enough is left", "disbursements",
          MANAGERS, body=f"{DONATIONS}:DisbursementApproveSchema",
          response=f"{DONATIONS}:DisbursementSchema"),
    Route("pay_disbursement", "POST", f"{DISBURSEMENT}/pay",
          _disbursement_step("pay_disbursement"),
          "Hand over an approved disbursement with the recipient's acknowledgement "
          "(emits disbursement_made)", "disbursements", MANAGERS,
          body=f"{DONATIONS}:DisbursementPaySchema", response=f"{DONATIONS}:DisbursementSchema"),
    Route("reject_disbursement", "POST", f"{DISBURSEMENT}/reject",
          _disbursement_step("reject_disbursement"),
          "Refuse a request or withdraw an approval before payment", "disbursements",
          MANAGERS, body=f"{DONATIONS}:DisbursementRejectSchema",
          response=f"{DONATIONS}:DisbursementSchema"),
    Route("get_ledger", "GET", f"{CAMPAIGN}/ledger", get_ledger,
          "A campaign's full ledger: every gift (voided too), disbursement and total",
          "ledger", DONATION_READERS, query=f"{DONATIONS}:LedgerQuerySchema",
          response=f"{DONATIONS}:LedgerSchema"),
    Route("get_public_ledger", "GET", "/api/v1/public/campaigns/<campaign_id>/ledger",
          get_public_ledger,
          "The public ledger (公示) of a campaign marked public: donors as they chose, paid "
          "disbursements, totals and progress", "ledger", public=True,
          query=f"{DONATIONS}:LedgerQuerySchema", response=f"{DONATIONS}:PublicLedgerSchema"),
    Route("export_ledger_csv", "GET", f"{CAMPAIGN}/ledger.csv", _export("csv"),
          "The ledger as a CSV file (UTF-8 with BOM)", "ledger", DONATION_READERS,
          response_type="text/csv"),
    Route("export_ledger_xlsx", "GET", f"{CAMPAIGN}/ledger.xlsx", _export("xlsx"),
          "The ledger as an Excel workbook", "ledger", DONATION_READERS, response_type=XLSX),
    Route("reconcile_campaign", "GET", f"{CAMPAIGN}/reconciliation", reconcile_campaign,
          "Check received − voided − disbursed = balance, goods per item, receipts", "ledger",
          DONATION_READERS, response=f"{DONATIONS}:ReconciliationSchema"),
    Route("organiser_totals", "GET", "/api/v1/donation-reports/organisers", organiser_totals,
          "Totals per organiser org in the caller's subtree", "ledger", DONATION_READERS,
          response=f"{DONATIONS}:OrganiserTotalsListSchema"),
    Route("member_giving", "GET", "/api/v1/donation-reports/members/<member_id>",
          member_giving, "A member's gifts to the campaigns the caller sees", "ledger",
          DONATION_READERS, response=f"{DONATIONS}:MemberGivingSchema"),
)
