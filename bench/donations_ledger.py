"""What a campaign's size costs the donations service: a small campaign (the baseline, 100 gifts)
against a big one (default 1,000,000 gifts) in the same throw-away PostgreSQL database.

Timed, median of --repeat runs, each in its own transaction (rolled back, so every run sees the
same data):
* approving a cash disbursement: the overdraw check reads the running balance kept on the
  campaign row under its lock, so it should not grow with the number of gifts;
* a page of the ledger deep in the campaign (keyset on receipt_no, uq_donations_campaign_receipt),
  which should not grow either;
* the campaign's totals (a grouped SUM in whole fen over every gift), which does grow: it is
  printed so the cost is known, not hidden.

    PYTHONWARNINGS=ignore .venv/bin/python bench/donations_ledger.py [--gifts 1000000] [--keep]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench.scratch import ADMIN_URL, scratch_database  # noqa: E402
from services.donations import disbursements, ledger  # noqa: E402
from services.donations.campaigns import get_visible_campaign, totals_of  # noqa: E402
from services.donations.models import PLUMBING  # noqa: E402
from services.plumbing.caller import Caller  # noqa: E402
from services.plumbing.db import Transaction  # noqa: E402

PLATFORM = Caller.of_key("bench", "admin", None)

FILL = """
INSERT INTO campaigns (id, organiser_org_id, title, purpose, goal, opens_on, closes_on, status,
                       public, cash_balance, cash_reserved, receipts_issued, created_at)
VALUES (:campaign, 'org-bench', 'bench', 'other', NULL, date '2020-01-01', date '2099-12-31',
        'open', true, 0, 0, :gifts, now());
INSERT INTO beneficiaries (id, campaign_id, kind, name, county)
VALUES (:campaign || '-village', :campaign, 'village', '王营村', '淮阳区');
INSERT INTO donations (id, campaign_id, receipt_no, amount, kind, member_id, donor_name,
                       anonymous, public_name, channel, late, received_at)
SELECT md5(:campaign || i::text)::uuid::text, :campaign, i, ((i * 7919) % 1000000 + 1) / 100.0,
       'cash', NULL, '捐赠人' || i, i % 7 = 0, 'masked', 'cash', false,
       timestamptz '2020-01-28' + i * interval '1 second'
FROM generate_series(1, :gifts) i;
UPDATE campaigns SET cash_balance = (SELECT SUM(amount) FROM donations
                                     WHERE campaign_id = :campaign) WHERE id = :campaign;
INSERT INTO disbursements (id, campaign_id, beneficiary_id, kind, amount, purpose, status,
                           requested_by_key, requested_at)
VALUES (:campaign || '-d', :campaign, :campaign || '-village', 'cash', 1.00, 'bench',
        'requested', 'bench', now())
"""


def median_ms(work, repeat: int, sessions) -> float:
    samples = []
    for _ in range(repeat):
        with sessions() as session:
            started = time.perf_counter()
            work(session)
            samples.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return statistics.median(samples)


def approve(campaign_id):
    def work(session):
        disbursements.approve_disbursement(Transaction(session, PLUMBING, None), PLATFORM,
                                           campaign_id, campaign_id + "-d", "bench")
    return work


def deep_page(campaign_id, gifts):
    def work(session):
        campaign = get_visible_campaign(session, PLATFORM, campaign_id)
        rows, _next = ledger.gifts_page(session, campaign, max(0, gifts - 300), 200)
        assert rows
    return work


def totals(campaign_id):
    def work(session):
        totals_of(session, [campaign_id])
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=int, default=1_000_000)
    parser.add_argument("--baseline-gifts", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with scratch_database("donations", args.admin_url, args.keep) as engine:
        started = time.perf_counter()
        with engine.begin() as conn:
            for campaign, gifts in (("small", args.baseline_gifts), ("big", args.gifts)):
                for statement in FILL.split(";\n"):
                    conn.execute(text(statement), {"campaign": campaign, "gifts": gifts})
            conn.execute(text("ANALYZE"))
        print(f"filled {args.baseline_gifts:,} + {args.gifts:,} gifts in "
              f"{time.perf_counter() - started:.1f}s")
        sessions = sessionmaker(engine, expire_on_commit=False)
        cases = [("approve a cash disbursement", approve),
                 ("a ledger page deep in the campaign", None),
                 ("campaign totals (grouped SUM)", totals)]
        print(f"{'case':40} {'small ms':>9} {'big ms':>9} {'big/small':>10}")
        for label, make in cases:
            if make is None:
                small = median_ms(deep_page("small", args.baseline_gifts), args.repeat, sessions)
                big = median_ms(deep_page("big", args.gifts), args.repeat, sessions)
            else:
                small = median_ms(make("small"), args.repeat, sessions)
                big = median_ms(make("big"), args.repeat, sessions)
            print(f"{label:40} {small:9.2f} {big:9.2f} {big / small:10.1f}")


if __name__ == "__main__":
    main()
