"""The tenancy projection that services other than members keep from members' events.

Tenancy is the platform's access rule, the same in every service: a caller sees the subtree of
its org unit; a member is visible from the subtree of its home org and of its host org. Services
learn the org trees and members only from `org_unit_registered` / `member_registered` events
and keep these two tables in their own database.
"""
import time
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, literal, or_, select, update
from sqlalchemy.orm import Session

from .caller import Caller
from .db import insert_unless_present
from .expiring import ExpiringCache
from .together import insert_new

NOTHING = "/nothing/"


class ProjectionBehind(Exception):
    """An event arrived before one it depends on; raising lets the subscriber retry it later."""


@dataclass(frozen=True)
class TenancyTables:
    org_units: Table
    members: Table | None   # None for a service that scopes by org unit only (webhooks)


def tenancy_tables(metadata: MetaData, with_members: bool = True) -> TenancyTables:
    org_units = Table(
        "org_units_projection", metadata,
        Column("org_id", String(36), primary_key=True),
        Column("parent_id", String(36)),
        Column("kind", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("path", String(1000), nullable=False, index=True),
    )
    if not with_members:
        return TenancyTables(org_units=org_units, members=None)
    members = Table(
        "members_projection", metadata,
        Column("member_id", String(36), primary_key=True),
        Column("name", String(100), nullable=False),
        Column("home_org_id", String(36), nullable=False, index=True),
        Column("host_org_id", String(36), index=True),
        # The members service numbers every flow step; a step applies only if it is newer than
        # the last one applied, so a late (retried) event never undoes a newer one.
        Column("flow_seq", Integer, nullable=False, server_default="0", default=0),
    )
    return TenancyTables(org_units=org_units, members=members)


# Scoping reads the caller's unit path on every request (and a record's unit on many). Paths
# change only when a unit moves: this process remembers the paths it read for PATH_CACHE_SECONDS,
# forgets them all when it applies a move (at once and again after that commit), and another
# replica's move is seen here within that bound, on top of the events' own delay (issue 13).
PATH_CACHE_SECONDS = 2.0
PATH_CACHE_ENTRIES = 10_000


class Tenancy:
    def __init__(self, tables: TenancyTables, clock=time.monotonic):
        self.tables = tables
        self._paths = ExpiringCache(PATH_CACHE_SECONDS, PATH_CACHE_ENTRIES, clock)

    def forget_paths(self) -> None:
        self._paths.clear()

    # -- keeping the projection -------------------------------------------------------------
    # A unit or member already projected is left as it is: the key answers in the INSERT itself.
    def apply_org_unit_registered(self, session: Session, data: dict) -> None:
        session.execute(insert_unless_present(session, self.tables.org_units, "org_id"), {
            "org_id": data["org_id"], "parent_id": data["parent_id"], "kind": data["kind"],
            "name": data["name"], "path": data["path"]})

    def apply_members_registered(self, session: Session, registrations: list[dict]) -> None:
        """Several registrations in one statement (a batch of deliveries); a member projected
        already is kept as it is."""
        insert_new(session, self.tables.members, [{
            "member_id": data["member_id"], "name": data["name"],
            "home_org_id": data["home_org_id"], "host_org_id": data["host_org_id"]}
            for data in registrations], key=("member_id",), returning="member_id")

    def apply_member_flow(self, session: Session, data: dict) -> None:
        """A lifecycle step changed where the member belongs (host org, possibly none)."""
        table = self.tables.members
        if self.member(session, data["member_id"]) is None:
            # Flow steps and registrations travel on different queues: wait for the registration.
            raise ProjectionBehind(f"member {data['member_id']} not projected yet")
        session.execute(update(table).where(table.c.member_id == data["member_id"],
                                            table.c.flow_seq < data["flow_seq"])
                        .values(home_org_id=data["home_org_id"], host_org_id=data["host_org_id"],
                                flow_seq=data["flow_seq"]))

    def apply_org_unit_moved(self, session: Session, data: dict) -> None:
        """The unit and its whole subtree now hang under another parent: rewrite path prefixes."""
        table = self.tables.org_units
        old, new = data["old_path"], data["new_path"]
        current = self._stored_path(session, data["org_id"])
        if current == new:
            return  # already applied
        if current != old:
            raise ProjectionBehind(f"org unit {data['org_id']} is at {current}, expected {old}")
        self.forget_paths()
        event.listen(session, "after_commit", lambda _session: self.forget_paths(), once=True)
        session.execute(update(table).where(table.c.org_id == data["org_id"])
                        .values(parent_id=data["parent_id"]))
        session.execute(update(table).where(table.c.path.startswith(old, autoescape=True))
                        .values(path=literal(new) + func.substr(table.c.path, len(old) + 1)))

    # -- asking it ----------------------------------------------------------------------------
    def caller_prefix(self, session: Session, caller: Caller) -> str | None:
        """The caller's subtree prefix; None when platform-wide; never matching when unknown."""
        if caller.platform_wide:
            return None
        return self.org_path(session, caller.org_id) or NOTHING

    def org_path(self, session: Session, org_id: str | None) -> str | None:
        """The unit's path, remembered for PATH_CACHE_SECONDS (see above); None if unknown (not
        remembered: a unit projected a moment later must be found)."""
        if not org_id:
            return None
        # per database: one per process, many in tests
        return self._paths.get((session.get_bind(), org_id),
                               lambda: self._stored_path(session, org_id))

    def _stored_path(self, session: Session, org_id: str) -> str | None:
        table = self.tables.org_units
        return session.scalar(select(table.c.path).where(table.c.org_id == org_id))

    def org_in_scope(self, session: Session, caller: Caller, org_id: str | None) -> bool:
        path = self.org_path(session, org_id)
        prefix = self.caller_prefix(session, caller)
        return path is not None and (prefix is None or path.startswith(prefix))

    def visible_orgs(self, prefix: str):
        table = self.tables.org_units
        return select(table.c.org_id).where(table.c.path.startswith(prefix, autoescape=True))

    def org_column_in_scope(self, session: Session, caller: Caller, column):
        """A WHERE clause: `column` (an org id) lies in the caller's subtree; None if unlimited."""
        prefix = self.caller_prefix(session, caller)
        return None if prefix is None else column.in_(self.visible_orgs(prefix))

    def member(self, session: Session, member_id: str):
        table = self.tables.members
        return session.execute(select(table).where(table.c.member_id == member_id)).first()

    def member_visible(self, session: Session, caller: Caller, member_id: str) -> bool:
        """Dual management: visible from the home org's subtree and from the host org's."""
        table = self.tables.members
        query = select(table.c.member_id).where(table.c.member_id == member_id)
        prefix = self.caller_prefix(session, caller)
        if prefix is not None:
            orgs = self.visible_orgs(prefix)
            query = query.where(or_(table.c.home_org_id.in_(orgs), table.c.host_org_id.in_(orgs)))
        return session.execute(query).first() is not None
