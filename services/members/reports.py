"""Reports for a county or a committee: members by host city, category and status; flows per
month. Each figure is one grouped query over the org's subtree (home or host side). The
entrypoints pass the query already loaded through the schemas."""
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from services.plumbing.caller import Caller

from .models import FlowRecord, Member, OrgUnit
from .orgs import caller_path, get_visible_org, members_under_clause

FLOW_COLUMNS = {"flow_out": "flowed_out", "accept": "accepted", "refuse": "refused",
                "move": "moved", "return_home": "returned", "lose_contact": "lost_contact",
                "found": "found"}


def _prefix(session, caller, data):
    return get_visible_org(session, caller, data["org_id"]).path if data.get("org_id") \
        else caller_path(session, caller)


def _scoped(session, query, prefix):
    return query if prefix is None else query.where(members_under_clause(session, prefix))


def member_report(session: Session, caller: Caller, data: dict) -> dict:
    prefix = _prefix(session, caller, data)
    host = aliased(OrgUnit)
    by_city = _scoped(session, select(host.city, func.count()).select_from(Member)
                      .outerjoin(host, host.id == Member.host_org_id), prefix).group_by(host.city)
    by_category = _scoped(session, select(Member.category, func.count()), prefix).group_by(Member.category)
    by_status = _scoped(session, select(Member.status, func.count()), prefix).group_by(Member.status)
    status_counts = {s or "unknown": c for s, c in session.execute(by_status)}
    return {"total": sum(status_counts.values()),
            "by_host_city": {c or "none": n for c, n in session.execute(by_city)},
            "by_category": {c or "unknown": n for c, n in session.execute(by_category)},
            "by_status": status_counts}


def flow_report(session: Session, caller: Caller, data: dict) -> dict:
    """Lifecycle steps per month (flow-outs, acceptances, moves, returns, …) of the members the
    org sees. A registration that names a host org counts as a flow-out."""
    prefix = _prefix(session, caller, data)
    action = FlowRecord.action
    members = _scoped(session, select(Member.id), prefix)
    query = (select(FlowRecord.month, action, func.count())
             .where(FlowRecord.member_id.in_(members),
                    or_(action.in_(tuple(FLOW_COLUMNS)),
                        (action == "registered") & FlowRecord.to_host_org_id.is_not(None)))
             .group_by(FlowRecord.month, action).order_by(FlowRecord.month))
    if data.get("year"):
        query = query.where(FlowRecord.month.startswith(f"{data['year']:04d}-"))
    months: dict[str, dict] = {}
    for month, step, count in session.execute(query):
        row = months.setdefault(month, {"month": month, **{c: 0 for c in FLOW_COLUMNS.values()}})
        row[FLOW_COLUMNS.get(step, "flowed_out")] += count
    return {"items": list(months.values())}
