"""Campaigns and gifts (the donations service)."""
from .table import Route

DONATIONS = "services.donations.schemas"
IDEMPOTENCY = (("Idempotency-Key", "Up to 100 characters. A retry with the same key and body "
                "returns the first result (200); the same key with another body is a 409."),)


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


ROUTES = (
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
