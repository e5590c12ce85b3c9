"""How much the members indexes buy: a scoped, filtered list page over 1,000,000 members.

Builds a throw-away PostgreSQL database migrated to head, fills it in SQL (generate_series, no
row-by-row Python): 50 counties x 10 townships x 10 village branches on the home side, 20 joint
committees x 17 second-level committees x 10 branches on the host side, and N members spread
over them. Then it times the members service's own list query (registry.list_members: the
caller's scope, status + category + age filters, keyset page of 50, and the page after it) for a
county office and a host committee, first with the indexes of the migrations, then with those
indexes dropped, and prints the medians and the ratio.

    PYTHONWARNINGS=ignore .venv/bin/python bench/members_list.py [--members 1000000] [--keep]
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
from services.members import registry  # noqa: E402
from services.members.schemas import MemberListQuerySchema  # noqa: E402
from services.plumbing.caller import Caller  # noqa: E402
from services.plumbing.validation import load  # noqa: E402

MEMBER_INDEXES = ("ix_members_home_created", "ix_members_status_created", "ix_members_host_created",
                  "ix_members_created",
                  "ix_members_home_status_created", "ix_members_host_status_created",
                  "ix_members_category", "ix_members_birth_date", "ix_org_units_path_pattern")

FILL = """
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 'c' || lpad(c::text, 35, '0'), NULL, 'county', 'county ' || c, NULL,
       '/c' || lpad(c::text, 35, '0') || '/', now()
FROM generate_series(1, 50) c;
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 't' || lpad((c * 100 + t)::text, 35, '0'), 'c' || lpad(c::text, 35, '0'), 'township',
       'township ' || t, NULL,
       '/c' || lpad(c::text, 35, '0') || '/t' || lpad((c * 100 + t)::text, 35, '0') || '/', now()
FROM generate_series(1, 50) c, generate_series(1, 10) t;
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 'v' || lpad((c * 10000 + t * 100 + v)::text, 35, '0'), 't' || lpad((c * 100 + t)::text, 35, '0'),
       'village_branch', 'village ' || v, NULL,
       '/c' || lpad(c::text, 35, '0') || '/t' || lpad((c * 100 + t)::text, 35, '0') || '/v'
       || lpad((c * 10000 + t * 100 + v)::text, 35, '0') || '/', now()
FROM generate_series(1, 50) c, generate_series(1, 10) t, generate_series(1, 10) v;
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 'j' || lpad(j::text, 35, '0'), NULL, 'joint_committee', 'committee ' || j, 'city ' || j,
       '/j' || lpad(j::text, 35, '0') || '/', now()
FROM generate_series(1, 20) j;
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 's' || lpad((j * 100 + s)::text, 35, '0'), 'j' || lpad(j::text, 35, '0'),
       'second_level_committee', 'second ' || s, 'city ' || j,
       '/j' || lpad(j::text, 35, '0') || '/s' || lpad((j * 100 + s)::text, 35, '0') || '/', now()
FROM generate_series(1, 20) j, generate_series(1, 17) s;
INSERT INTO org_units (id, parent_id, kind, name, city, path, created_at)
SELECT 'b' || lpad((j * 10000 + s * 100 + b)::text, 35, '0'), 's' || lpad((j * 100 + s)::text, 35, '0'),
       'branch', 'branch ' || b, 'city ' || j,
       '/j' || lpad(j::text, 35, '0') || '/s' || lpad((j * 100 + s)::text, 35, '0') || '/b'
       || lpad((j * 10000 + s * 100 + b)::text, 35, '0') || '/', now()
FROM generate_series(1, 20) j, generate_series(1, 17) s, generate_series(1, 10) b;

-- members: home village i % 5000, host branch (i * 7) % 3400, statuses and categories mixed
WITH villages AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM org_units WHERE kind = 'village_branch'),
     branches AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM org_units WHERE kind = 'branch')
INSERT INTO members (id, name, id_number_hash, id_number_encrypted, id_number_masked, phone,
                     gender, birth_date, category, occupation, home_org_id, host_org_id, status,
                     giving_total, created_at)
SELECT md5(i::text)::uuid::text, '党员' || i, md5('id' || i), 'x', '110105********0000',
       '13800001234', CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       date '1950-01-01' + (i::bigint * 7919 % 20000)::int,
       (ARRAY['working', 'non_working_resident', 'stationed'])[i % 3 + 1],
       (ARRAY['migrant_worker', 'business_owner', 'company_employee', 'other'])[i % 4 + 1],
       v.id, CASE WHEN i % 10 = 0 THEN NULL ELSE b.id END,
       (ARRAY['active', 'active', 'active', 'pending', 'lost', 'returned'])[i % 6 + 1],
       0, timestamptz '2020-01-01' + i * interval '100 milliseconds'
FROM generate_series(1, :members) i
JOIN villages v ON v.n = i % 5000
JOIN branches b ON b.n = (i::bigint * 7) % 3400;
ANALYZE;
"""


def timed(session_factory, caller: Caller, params: dict, repeat: int) -> tuple[float, int]:
    """Median milliseconds of the first page plus the page after it."""
    samples, rows = [], 0
    for _ in range(repeat):
        with session_factory() as session:
            started = time.perf_counter()
            # Loaded as the list_members entrypoint loads them.
            first, cursor = registry.list_members(session, caller, load(MemberListQuerySchema, params))
            second, _ = registry.list_members(
                session, caller, load(MemberListQuerySchema, dict(params, cursor=cursor))) if cursor else ([], None)
            samples.append((time.perf_counter() - started) * 1000)
            rows = len(first) + len(second)
    return statistics.median(samples), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with scratch_database("members", args.admin_url, args.keep) as engine:
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"members": args.members})
        print(f"filled {args.members:,} members in {time.perf_counter() - started:.1f}s")
        sessions = sessionmaker(engine)
        county = Caller.of_key("bench", "office", "c" + "1".rjust(35, "0"))
        committee = Caller.of_key("bench", "office", "j" + "1".rjust(35, "0"))
        cases = [
            ("county office: active, working, aged 30-50", county,
             {"status": "active", "category": "working", "age_min": "30", "age_max": "50",
              "as_of": "2026-01-01", "limit": "50"}),
            ("county office: lost contact", county, {"lost_contact": "true", "limit": "50"}),
            ("host committee: pending (待报到)", committee, {"status": "pending", "limit": "50"}),
            ("county office: everything, oldest first", county, {"limit": "50"}),
        ]
        with_indexes = {label: timed(sessions, caller, params, args.repeat)
                        for label, caller, params in cases}
        with engine.begin() as conn:
            for index in MEMBER_INDEXES:
                conn.execute(text(f"DROP INDEX {index}"))
            conn.execute(text("ANALYZE members"))
        without = {label: timed(sessions, caller, params, max(3, args.repeat // 5))
                   for label, caller, params in cases}
        print(f"{'case':48} {'indexed ms':>11} {'no index ms':>12} {'ratio':>7} rows")
        for label, _caller, _params in cases:
            fast, rows = with_indexes[label]
            slow, rows_without = without[label]
            assert rows == rows_without, "the indexes changed the answer"
            print(f"{label:48} {fast:11.2f} {slow:12.2f} {slow / fast:7.1f} {rows}")


if __name__ == "__main__":
    main()
