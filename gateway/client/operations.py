"""Generated from the OpenAPI document by `python -m gateway.client.generate`.
Do not edit.

One method per operation (named after its operationId); see `Client` for the transport, the
retries and the errors raised."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .core import UNSET, Unset, seg


class Operations:
    """Every operation of the platform's HTTP API (mixed into `Client`, which provides
    `_operation`, `_body`, `_new_idempotency_key` and `paginate`)."""

    def health(
            self,
    ) -> dict:
        """Broker and service health (no key needed).

        `GET /api/v1/health`
        No key needed."""
        return self._operation(
            "GET",
            "/api/v1/health",
        )

    def openapi(
            self,
    ) -> dict:
        """This document.

        `GET /api/v1/openapi.json`
        No key needed."""
        return self._operation(
            "GET",
            "/api/v1/openapi.json",
        )

    def docs(
            self,
    ) -> str:
        """This document as a browsable page (no external resources).

        `GET /api/v1/docs`
        No key needed."""
        return self._operation(
            "GET",
            "/api/v1/docs",
        )

    def create_org_unit(
            self,
            kind: str,
            name: str,
            *,
            parent_id: str | None | Unset = UNSET,
            city: str | None | Unset = UNSET,
            contact: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Create an org unit in a home-side or host-side tree.

        `POST /api/v1/org-units`
        Roles: admin."""
        fields = {
            "parent_id": parent_id,
            "kind": kind,
            "name": name,
            "city": city,
            "contact": contact,
        }
        return self._operation(
            "POST",
            "/api/v1/org-units",
            body=self._body(payload, fields),
        )

    def list_org_units(
            self,
    ) -> dict:
        """Org units in the caller's subtree.

        `GET /api/v1/org-units`
        Roles: office, desk_staff, ops, admin."""
        return self._operation(
            "GET",
            "/api/v1/org-units",
        )

    def get_org_unit(
            self,
            org_id: str,
    ) -> dict:
        """One org unit of the caller's subtree.

        `GET /api/v1/org-units/{org_id}`
        Roles: office, desk_staff, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/org-units/{seg(org_id)}",
        )

    def move_org_unit(
            self,
            org_id: str,
            parent_id: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Move a unit (and its subtree) under another parent of the same tree.

        `POST /api/v1/org-units/{org_id}/move`
        Roles: admin."""
        fields = {
            "parent_id": parent_id,
        }
        return self._operation(
            "POST",
            f"/api/v1/org-units/{seg(org_id)}/move",
            body=self._body(payload, fields),
        )

    def close_org_unit(
            self,
            org_id: str,
    ) -> dict:
        """Close a unit; refused (409) while members or open units remain.

        `POST /api/v1/org-units/{org_id}/close`
        Roles: admin."""
        return self._operation(
            "POST",
            f"/api/v1/org-units/{seg(org_id)}/close",
        )

    def org_subtree(
            self,
            org_id: str,
    ) -> dict:
        """A unit's subtree with member counts per unit and per subtree.

        `GET /api/v1/org-units/{org_id}/subtree`
        Roles: office, desk_staff, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/org-units/{seg(org_id)}/subtree",
        )

    def register_member(
            self,
            name: str,
            id_number: str,
            phone: str,
            home_org_id: str,
            *,
            joined_party_on: str | None | Unset = UNSET,
            category: str | None | Unset = UNSET,
            occupation: str | None | Unset = UNSET,
            languages: list | Unset = UNSET,
            skills: list | Unset = UNSET,
            notes: str | None | Unset = UNSET,
            host_org_id: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Register a mobile party member.

        `POST /api/v1/members`
        Roles: office, admin."""
        fields = {
            "joined_party_on": joined_party_on,
            "category": category,
            "occupation": occupation,
            "languages": languages,
            "skills": skills,
            "notes": notes,
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "home_org_id": home_org_id,
            "host_org_id": host_org_id,
        }
        return self._operation(
            "POST",
            "/api/v1/members",
            body=self._body(payload, fields),
        )

    def list_members(
            self,
            *,
            home_org_id: str | None | Unset = UNSET,
            host_org_id: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
            category: str | None | Unset = UNSET,
            occupation: str | None | Unset = UNSET,
            lost_contact: bool | None | Unset = UNSET,
            age_min: int | None | Unset = UNSET,
            age_max: int | None | Unset = UNSET,
            as_of: str | None | Unset = UNSET,
            name: str | None | Unset = UNSET,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
    ) -> dict:
        """Members visible to the caller (home or host subtree), oldest first, filtered.

        `GET /api/v1/members`
        Roles: office, desk_staff, admin."""
        query = {
            "home_org_id": home_org_id,
            "host_org_id": host_org_id,
            "status": status,
            "category": category,
            "occupation": occupation,
            "lost_contact": lost_contact,
            "age_min": age_min,
            "age_max": age_max,
            "as_of": as_of,
            "name": name,
            "limit": limit,
            "cursor": cursor,
        }
        return self._operation(
            "GET",
            "/api/v1/members",
            query=query,
        )

    def iter_list_members(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_members`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/members",
            limit=page_size, **filters,
        )

    def get_member(
            self,
            member_id: str,
    ) -> dict:
        """One member (ID number and phone masked).

        `GET /api/v1/members/{member_id}`
        Roles: office, desk_staff, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}",
        )

    def update_member(
            self,
            member_id: str,
            *,
            name: str | Unset = UNSET,
            phone: str | Unset = UNSET,
            joined_party_on: str | None | Unset = UNSET,
            category: str | None | Unset = UNSET,
            occupation: str | None | Unset = UNSET,
            languages: list | Unset = UNSET,
            skills: list | Unset = UNSET,
            notes: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Update a member's record fields (not home, host or status).

        `PATCH /api/v1/members/{member_id}`
        Roles: office, admin."""
        fields = {
            "name": name,
            "phone": phone,
            "joined_party_on": joined_party_on,
            "category": category,
            "occupation": occupation,
            "languages": languages,
            "skills": skills,
            "notes": notes,
        }
        return self._operation(
            "PATCH",
            f"/api/v1/members/{seg(member_id)}",
            body=self._body(payload, fields),
        )

    def reveal_id_number(
            self,
            member_id: str,
    ) -> dict:
        """The full ID number: only the member's home side (office) or a platform admin.

        `GET /api/v1/members/{member_id}/id-number`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/id-number",
        )

    def member_history(
            self,
            member_id: str,
    ) -> dict:
        """The member's append-only flow history.

        `GET /api/v1/members/{member_id}/history`
        Roles: office, desk_staff, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/history",
        )

    def member_flow_out(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Home org registers a flow-out to a host org (待报到).

        `POST /api/v1/members/{member_id}/flow-out`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/flow-out",
            body=self._body(payload, fields),
        )

    def member_accept(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Host org accepts a pending member (已流入).

        `POST /api/v1/members/{member_id}/accept`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/accept",
            body=self._body(payload, fields),
        )

    def member_refuse(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Host org refuses a pending member, with a reason.

        `POST /api/v1/members/{member_id}/refuse`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/refuse",
            body=self._body(payload, fields),
        )

    def member_move(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Move an accepted member to another host org of the caller's subtree.

        `POST /api/v1/members/{member_id}/move`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/move",
            body=self._body(payload, fields),
        )

    def member_return_home(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """The member returned home (回归).

        `POST /api/v1/members/{member_id}/return-home`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/return-home",
            body=self._body(payload, fields),
        )

    def member_lose_contact(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """The member lost contact (失联) on a date.

        `POST /api/v1/members/{member_id}/lose-contact`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/lose-contact",
            body=self._body(payload, fields),
        )

    def member_found(
            self,
            member_id: str,
            *,
            host_org_id: str | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            occurred_on: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """A lost-contact member was found again.

        `POST /api/v1/members/{member_id}/found`
        Roles: office, admin."""
        fields = {
            "host_org_id": host_org_id,
            "reason": reason,
            "occurred_on": occurred_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/found",
            body=self._body(payload, fields),
        )

    def create_self_report(
            self,
            name: str,
            id_number: str,
            phone: str,
            home_org_id: str,
            host_org_id: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """A member reports in (主动报到) at a host unit of the caller's subtree.

        `POST /api/v1/self-reports`
        Roles: office, desk_staff."""
        fields = {
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "home_org_id": home_org_id,
            "host_org_id": host_org_id,
        }
        return self._operation(
            "POST",
            "/api/v1/self-reports",
            body=self._body(payload, fields),
        )

    def list_self_reports(
            self,
            *,
            status: str | Unset = UNSET,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
    ) -> dict:
        """The verification queue of self-reports at the caller's host units.

        `GET /api/v1/self-reports`
        Roles: office, desk_staff, admin."""
        query = {
            "status": status,
            "limit": limit,
            "cursor": cursor,
        }
        return self._operation(
            "GET",
            "/api/v1/self-reports",
            query=query,
        )

    def iter_list_self_reports(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_self_reports`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/self-reports",
            limit=page_size, **filters,
        )

    def accept_self_report(
            self,
            report_id: str,
            *,
            reason: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Verify and accept a self-report: the member flows in at the report's host unit.

        `POST /api/v1/self-reports/{report_id}/accept`
        Roles: office."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/self-reports/{seg(report_id)}/accept",
            body=self._body(payload, fields),
        )

    def refuse_self_report(
            self,
            report_id: str,
            *,
            reason: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Refuse a self-report, with a reason.

        `POST /api/v1/self-reports/{report_id}/refuse`
        Roles: office."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/self-reports/{seg(report_id)}/refuse",
            body=self._body(payload, fields),
        )

    def log_contact_attempt(
            self,
            member_id: str,
            attempted_on: str,
            method: str,
            outcome: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Log an attempt to reach a lost-contact member (组织找人).

        `POST /api/v1/members/{member_id}/contact-attempts`
        Roles: office, desk_staff."""
        fields = {
            "attempted_on": attempted_on,
            "method": method,
            "outcome": outcome,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/contact-attempts",
            body=self._body(payload, fields),
        )

    def list_contact_attempts(
            self,
            member_id: str,
    ) -> dict:
        """Contact attempts for a member.

        `GET /api/v1/members/{member_id}/contact-attempts`
        Roles: office, desk_staff, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/contact-attempts",
        )

    def found_stats(
            self,
            *,
            year: int | None | Unset = UNSET,
    ) -> dict:
        """Members found again per finding org and month.

        `GET /api/v1/reports/found`
        Roles: office, ops, admin."""
        query = {
            "year": year,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/found",
            query=query,
        )

    def create_activity(
            self,
            org_id: str,
            kind: str,
            title: str,
            held_on: str,
            *,
            place: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Publish an activity of an org unit in the caller's subtree.

        `POST /api/v1/activities`
        Roles: office."""
        fields = {
            "org_id": org_id,
            "kind": kind,
            "title": title,
            "place": place,
            "held_on": held_on,
        }
        return self._operation(
            "POST",
            "/api/v1/activities",
            body=self._body(payload, fields),
        )

    def get_activity(
            self,
            activity_id: str,
    ) -> dict:
        """One activity.

        `GET /api/v1/activities/{activity_id}`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/activities/{seg(activity_id)}",
        )

    def sign_up_activity(
            self,
            activity_id: str,
            member_id: str,
            *,
            volunteer_hours: float | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Sign a member up for an activity.

        `POST /api/v1/activities/{activity_id}/sign-ups`
        Roles: office."""
        fields = {
            "member_id": member_id,
            "volunteer_hours": volunteer_hours,
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/activities/{seg(activity_id)}/sign-ups",
            body=self._body(payload, fields),
        )

    def attend_activity(
            self,
            activity_id: str,
            member_id: str,
            *,
            volunteer_hours: float | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Sign a member in (attendance); awards the home county's study points once.

        `POST /api/v1/activities/{activity_id}/attendance`
        Roles: office."""
        fields = {
            "member_id": member_id,
            "volunteer_hours": volunteer_hours,
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/activities/{seg(activity_id)}/attendance",
            body=self._body(payload, fields),
        )

    def leave_activity(
            self,
            activity_id: str,
            member_id: str,
            *,
            volunteer_hours: float | None | Unset = UNSET,
            reason: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """A member's leave request for an activity (reason required).

        `POST /api/v1/activities/{activity_id}/leave`
        Roles: office."""
        fields = {
            "member_id": member_id,
            "volunteer_hours": volunteer_hours,
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/activities/{seg(activity_id)}/leave",
            body=self._body(payload, fields),
        )

    def activity_tally(
            self,
            *,
            year: int | Unset = UNSET,
            org_id: str | None | Unset = UNSET,
    ) -> dict:
        """Activities per org and kind in a year, over a subtree.

        `GET /api/v1/reports/activities`
        Roles: office, ops, admin."""
        query = {
            "year": year,
            "org_id": org_id,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/activities",
            query=query,
        )

    def set_point_rule(
            self,
            county_org_id: str,
            activity_kind: str,
            points: int,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Set a county's study points for an activity kind.

        `PUT /api/v1/point-rules`
        Roles: office, admin."""
        fields = {
            "county_org_id": county_org_id,
            "activity_kind": activity_kind,
            "points": points,
        }
        return self._operation(
            "PUT",
            "/api/v1/point-rules",
            body=self._body(payload, fields),
        )

    def list_point_rules(
            self,
            *,
            county_org_id: str | Unset = UNSET,
    ) -> dict:
        """A county's study-point rules.

        `GET /api/v1/point-rules`
        Roles: office, admin."""
        query = {
            "county_org_id": county_org_id,
        }
        return self._operation(
            "GET",
            "/api/v1/point-rules",
            query=query,
        )

    def award_points(
            self,
            member_id: str,
            points: int,
            reason: str,
            earned_on: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Award (or deduct) study points by hand.

        `POST /api/v1/members/{member_id}/points`
        Roles: office."""
        fields = {
            "points": points,
            "reason": reason,
            "earned_on": earned_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/points",
            body=self._body(payload, fields),
        )

    def point_ledger(
            self,
            member_id: str,
    ) -> dict:
        """A member's points ledger, wherever earned (home and host).

        `GET /api/v1/members/{member_id}/points`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/points",
        )

    def points_ranking(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            year: int | Unset = UNSET,
            month: int | None | Unset = UNSET,
            limit: int | Unset = UNSET,
    ) -> dict:
        """Monthly or yearly study-points ranking of an org's members.

        `GET /api/v1/reports/points-ranking`
        Roles: office, admin."""
        query = {
            "org_id": org_id,
            "year": year,
            "month": month,
            "limit": limit,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/points-ranking",
            query=query,
        )

    def volunteer_hours(
            self,
            member_id: str,
    ) -> dict:
        """A member's volunteer hours, per activity and in total.

        `GET /api/v1/members/{member_id}/volunteer-hours`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/volunteer-hours",
        )

    def list_elderly(
            self,
            *,
            as_of: str | None | Unset = UNSET,
            age: int | Unset = UNSET,
            org_id: str | None | Unset = UNSET,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
    ) -> dict:
        """Members aged 60 (or `age`) and over as of a date.

        `GET /api/v1/care/elderly`
        Roles: office, admin."""
        query = {
            "as_of": as_of,
            "age": age,
            "org_id": org_id,
            "limit": limit,
            "cursor": cursor,
        }
        return self._operation(
            "GET",
            "/api/v1/care/elderly",
            query=query,
        )

    def iter_list_elderly(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_elderly`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/care/elderly",
            limit=page_size, **filters,
        )

    def log_care_visit(
            self,
            member_id: str,
            visited_on: str,
            notes: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Log a care visit.

        `POST /api/v1/members/{member_id}/care-visits`
        Roles: office, desk_staff."""
        fields = {
            "visited_on": visited_on,
            "notes": notes,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/care-visits",
            body=self._body(payload, fields),
        )

    def list_care_visits(
            self,
            member_id: str,
    ) -> dict:
        """A member's care visits.

        `GET /api/v1/members/{member_id}/care-visits`
        Roles: office, desk_staff, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/care-visits",
        )

    def grant_hardship_help(
            self,
            member_id: str,
            kind: str,
            amount: str | Decimal,
            granted_on: str,
            *,
            notes: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Record hardship help (生活/创业/家庭困难) with an exact amount.

        `POST /api/v1/members/{member_id}/hardship-help`
        Roles: office."""
        fields = {
            "kind": kind,
            "amount": amount,
            "granted_on": granted_on,
            "notes": notes,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/hardship-help",
            body=self._body(payload, fields),
        )

    def list_hardship_help(
            self,
            member_id: str,
    ) -> dict:
        """A member's hardship help and its exact total.

        `GET /api/v1/members/{member_id}/hardship-help`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/members/{seg(member_id)}/hardship-help",
        )

    def award_honour(
            self,
            title: str,
            awarded_on: str,
            *,
            member_id: str | None | Unset = UNSET,
            org_id: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Award an honour to a member or an org unit.

        `POST /api/v1/honours`
        Roles: office, admin."""
        fields = {
            "member_id": member_id,
            "org_id": org_id,
            "title": title,
            "awarded_on": awarded_on,
        }
        return self._operation(
            "POST",
            "/api/v1/honours",
            body=self._body(payload, fields),
        )

    def list_honours(
            self,
            *,
            member_id: str | None | Unset = UNSET,
            org_id: str | None | Unset = UNSET,
    ) -> dict:
        """Honours of a member or of an org unit.

        `GET /api/v1/honours`
        Roles: office, desk_staff, admin."""
        query = {
            "member_id": member_id,
            "org_id": org_id,
        }
        return self._operation(
            "GET",
            "/api/v1/honours",
            query=query,
        )

    def record_talent_return(
            self,
            member_id: str,
            kind: str,
            returned_on: str,
            *,
            notes: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Record a returned member's new role (人才回引).

        `POST /api/v1/members/{member_id}/talent-returns`
        Roles: office."""
        fields = {
            "kind": kind,
            "returned_on": returned_on,
            "notes": notes,
        }
        return self._operation(
            "POST",
            f"/api/v1/members/{seg(member_id)}/talent-returns",
            body=self._body(payload, fields),
        )

    def talent_report(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            year: int | None | Unset = UNSET,
    ) -> dict:
        """Returning talent of a county's members, by kind.

        `GET /api/v1/reports/talent`
        Roles: office, ops, admin."""
        query = {
            "org_id": org_id,
            "year": year,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/talent",
            query=query,
        )

    def publish_notice(
            self,
            org_id: str,
            title: str,
            body: str,
            *,
            kind: str | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Send a notice (家乡来信) to every mobile member under an org unit; delivered by an event, so
        delivered_count fills in shortly after.

        `POST /api/v1/notices`
        Roles: office."""
        fields = {
            "org_id": org_id,
            "kind": kind,
            "title": title,
            "body": body,
        }
        return self._operation(
            "POST",
            "/api/v1/notices",
            body=self._body(payload, fields),
        )

    def get_notice(
            self,
            notice_id: str,
    ) -> dict:
        """A notice with delivered, read and unread counts (unread per host org).

        `GET /api/v1/notices/{notice_id}`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/notices/{seg(notice_id)}",
        )

    def mark_notice_read(
            self,
            notice_id: str,
            member_id: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Mark a notice read by a member (idempotent).

        `POST /api/v1/notices/{notice_id}/read`
        Roles: office."""
        fields = {
            "member_id": member_id,
        }
        return self._operation(
            "POST",
            f"/api/v1/notices/{seg(notice_id)}/read",
            body=self._body(payload, fields),
        )

    def list_notice_deliveries(
            self,
            notice_id: str,
            *,
            unread: bool | Unset = UNSET,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
    ) -> dict:
        """Who has not read (or has read) a notice, page by page.

        `GET /api/v1/notices/{notice_id}/deliveries`
        Roles: office, admin."""
        query = {
            "unread": unread,
            "limit": limit,
            "cursor": cursor,
        }
        return self._operation(
            "GET",
            f"/api/v1/notices/{seg(notice_id)}/deliveries",
            query=query,
        )

    def iter_list_notice_deliveries(
            self, notice_id: str, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_notice_deliveries`, page after page (follows next_cursor)."""
        return self.paginate(
            f"/api/v1/notices/{seg(notice_id)}/deliveries",
            limit=page_size, **filters,
        )

    def start_member_import(
            self,
            content_base64: str,
            *,
            format: str | None | Unset = UNSET,
            filename: str | None | Unset = UNSET,
            payload: dict | None = None,
            idempotency_key: str | None = None,
    ) -> dict:
        """Upload a CSV or XLSX file of members: multipart/form-data with a `file` field (and
        optionally `format`, else taken from the file name), or JSON with the file in
        base64; up to the upload limit (GATEWAY_MAX_UPLOAD_BYTES, 32 MiB by default).
        Rows are imported in batches in the background: poll the import for progress,
        counts, errors and duplicates by row; download the rows not imported as an error
        file.

        `POST /api/v1/member-imports`
        Roles: office, admin."""
        fields = {
            "format": format,
            "filename": filename,
            "content_base64": content_base64,
        }
        return self._operation(
            "POST",
            "/api/v1/member-imports",
            body=self._body(payload, fields),
            idempotency_key=idempotency_key or self._new_idempotency_key(),
        )

    def get_member_import(
            self,
            batch_id: str,
    ) -> dict:
        """An import's progress (processed_rows, rows_per_second, seconds_left), counts, row errors
        and duplicates (the first 1000; the error file has all).

        `GET /api/v1/member-imports/{batch_id}`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/member-imports/{seg(batch_id)}",
        )

    def member_import_errors_csv(
            self,
            batch_id: str,
    ) -> str:
        """The rows not imported, with the file's columns, source_row and a reason: fix them and
        import the file again (CSV, UTF-8 with BOM).

        `GET /api/v1/member-imports/{batch_id}/errors.csv`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/member-imports/{seg(batch_id)}/errors.csv",
        )

    def member_import_errors_xlsx(
            self,
            batch_id: str,
    ) -> bytes:
        """The rows not imported, as an Excel workbook.

        `GET /api/v1/member-imports/{batch_id}/errors.xlsx`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/member-imports/{seg(batch_id)}/errors.xlsx",
        )

    def export_members_csv(
            self,
            *,
            home_org_id: str | None | Unset = UNSET,
            host_org_id: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
            category: str | None | Unset = UNSET,
            occupation: str | None | Unset = UNSET,
            lost_contact: bool | None | Unset = UNSET,
            age_min: int | None | Unset = UNSET,
            age_max: int | None | Unset = UNSET,
            as_of: str | None | Unset = UNSET,
            name: str | None | Unset = UNSET,
    ) -> str:
        """The ledger of the caller's scope with the list filters, as CSV (UTF-8 with BOM).

        `GET /api/v1/member-ledger.csv`
        Roles: office, admin."""
        query = {
            "home_org_id": home_org_id,
            "host_org_id": host_org_id,
            "status": status,
            "category": category,
            "occupation": occupation,
            "lost_contact": lost_contact,
            "age_min": age_min,
            "age_max": age_max,
            "as_of": as_of,
            "name": name,
        }
        return self._operation(
            "GET",
            "/api/v1/member-ledger.csv",
            query=query,
        )

    def export_members_xlsx(
            self,
            *,
            home_org_id: str | None | Unset = UNSET,
            host_org_id: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
            category: str | None | Unset = UNSET,
            occupation: str | None | Unset = UNSET,
            lost_contact: bool | None | Unset = UNSET,
            age_min: int | None | Unset = UNSET,
            age_max: int | None | Unset = UNSET,
            as_of: str | None | Unset = UNSET,
            name: str | None | Unset = UNSET,
    ) -> bytes:
        """The ledger of the caller's scope with the list filters, as an Excel workbook.

        `GET /api/v1/member-ledger.xlsx`
        Roles: office, admin."""
        query = {
            "home_org_id": home_org_id,
            "host_org_id": host_org_id,
            "status": status,
            "category": category,
            "occupation": occupation,
            "lost_contact": lost_contact,
            "age_min": age_min,
            "age_max": age_max,
            "as_of": as_of,
            "name": name,
        }
        return self._operation(
            "GET",
            "/api/v1/member-ledger.xlsx",
            query=query,
        )

    def member_report(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            year: int | None | Unset = UNSET,
    ) -> dict:
        """Members of a county or committee by host city, category and status.

        `GET /api/v1/reports/members`
        Roles: office, ops, admin."""
        query = {
            "org_id": org_id,
            "year": year,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/members",
            query=query,
        )

    def flow_report(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            year: int | None | Unset = UNSET,
    ) -> dict:
        """Flow-outs, acceptances, moves, returns, lost and found per month.

        `GET /api/v1/reports/flows`
        Roles: office, ops, admin."""
        query = {
            "org_id": org_id,
            "year": year,
        }
        return self._operation(
            "GET",
            "/api/v1/reports/flows",
            query=query,
        )

    def submit_request(
            self,
            category: str,
            description: str,
            *,
            requester_member_id: str | None | Unset = UNSET,
            requester_name: str | None | Unset = UNSET,
            requester_phone: str | None | Unset = UNSET,
            requester_home_org_id: str | None | Unset = UNSET,
            language: str | Unset = UNSET,
            channel: str | None | Unset = UNSET,
            service_day_id: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Take in a proxy-service request at the caller's service centre.

        `POST /api/v1/requests`
        Roles: desk_staff, office."""
        fields = {
            "requester_member_id": requester_member_id,
            "requester_name": requester_name,
            "requester_phone": requester_phone,
            "requester_home_org_id": requester_home_org_id,
            "category": category,
            "description": description,
            "language": language,
            "channel": channel,
            "service_day_id": service_day_id,
        }
        return self._operation(
            "POST",
            "/api/v1/requests",
            body=self._body(payload, fields),
        )

    def list_requests(
            self,
            *,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
            assignee: str | None | Unset = UNSET,
            first_owner: str | None | Unset = UNSET,
            mine: bool | Unset = UNSET,
            overdue: bool | None | Unset = UNSET,
    ) -> dict:
        """The caller's requests: its centre (or subtree), filtered by status, assignee, 首问 owner
        or overdue.

        `GET /api/v1/requests`
        Roles: desk_staff, office, admin."""
        query = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
            "assignee": assignee,
            "first_owner": first_owner,
            "mine": mine,
            "overdue": overdue,
        }
        return self._operation(
            "GET",
            "/api/v1/requests",
            query=query,
        )

    def iter_list_requests(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_requests`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/requests",
            limit=page_size, **filters,
        )

    def my_queue(
            self,
            *,
            limit: int | Unset = UNSET,
    ) -> dict:
        """What the caller may take now: language routing applied, its languages first.

        `GET /api/v1/request-queue`
        Roles: desk_staff."""
        query = {
            "limit": limit,
        }
        return self._operation(
            "GET",
            "/api/v1/request-queue",
            query=query,
        )

    def get_request(
            self,
            request_id: str,
    ) -> dict:
        """One request with its ledger, notices and home-county tasks.

        `GET /api/v1/requests/{request_id}`
        Roles: desk_staff, office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/requests/{seg(request_id)}",
        )

    def claim_request(
            self,
            request_id: str,
    ) -> dict:
        """Claim (受理 and start) a request: the first taker is its 首问 owner for good.

        `POST /api/v1/requests/{request_id}/claim`
        Roles: desk_staff."""
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/claim",
        )

    def accept_request(
            self,
            request_id: str,
    ) -> dict:
        """Accept (受理) a request without starting it: the first taker is its 首问 owner.

        `POST /api/v1/requests/{request_id}/accept`
        Roles: desk_staff."""
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/accept",
        )

    def start_request(
            self,
            request_id: str,
    ) -> dict:
        """Start work on an accepted request.

        `POST /api/v1/requests/{request_id}/start`
        Roles: desk_staff."""
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/start",
        )

    def request_materials(
            self,
            request_id: str,
            missing: list,
            *,
            payload: dict | None = None,
    ) -> dict:
        """一次性告知: list every missing item at once; the clock stops.

        `POST /api/v1/requests/{request_id}/materials-missing`
        Roles: desk_staff."""
        fields = {
            "missing": missing,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/materials-missing",
            body=self._body(payload, fields),
        )

    def supplement_materials(
            self,
            request_id: str,
            *,
            note: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """The missing materials arrived: the clock restarts from zero.

        `POST /api/v1/requests/{request_id}/supplement`
        Roles: desk_staff."""
        fields = {
            "note": note,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/supplement",
            body=self._body(payload, fields),
        )

    def forward_request(
            self,
            request_id: str,
            *,
            note: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """收受分离: forward to the requester's home county (creates its task).

        `POST /api/v1/requests/{request_id}/forward`
        Roles: desk_staff."""
        fields = {
            "note": note,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/forward",
            body=self._body(payload, fields),
        )

    def complete_request(
            self,
            request_id: str,
            outcome: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Complete a request with its outcome.

        `POST /api/v1/requests/{request_id}/complete`
        Roles: desk_staff."""
        fields = {
            "outcome": outcome,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/complete",
            body=self._body(payload, fields),
        )

    def reject_request(
            self,
            request_id: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Refuse a request, with the reason.

        `POST /api/v1/requests/{request_id}/reject`
        Roles: desk_staff."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/reject",
            body=self._body(payload, fields),
        )

    def withdraw_request(
            self,
            request_id: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """The requester withdrew the request.

        `POST /api/v1/requests/{request_id}/withdraw`
        Roles: desk_staff, office."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/withdraw",
            body=self._body(payload, fields),
        )

    def reopen_request(
            self,
            request_id: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Reopen a completed request within the window; the clock restarts.

        `POST /api/v1/requests/{request_id}/reopen`
        Roles: desk_staff."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/reopen",
            body=self._body(payload, fields),
        )

    def assign_request(
            self,
            request_id: str,
            assignee: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Hand the work to another staff member (the 首问 owner stays).

        `POST /api/v1/requests/{request_id}/assign`
        Roles: desk_staff."""
        fields = {
            "assignee": assignee,
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/assign",
            body=self._body(payload, fields),
        )

    def extend_deadline(
            self,
            request_id: str,
            extra_working_days: int,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Extend the deadline (a centre lead approves by calling this; once per request).

        `POST /api/v1/requests/{request_id}/extend`
        Roles: desk_staff."""
        fields = {
            "extra_working_days": extra_working_days,
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/extend",
            body=self._body(payload, fields),
        )

    def rate_request(
            self,
            request_id: str,
            score: int,
            *,
            comment: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """好差评: the requester's rating of a completed request.

        `POST /api/v1/requests/{request_id}/rating`
        Roles: desk_staff, office."""
        fields = {
            "score": score,
            "comment": comment,
        }
        return self._operation(
            "POST",
            f"/api/v1/requests/{seg(request_id)}/rating",
            body=self._body(payload, fields),
        )

    def list_home_tasks(
            self,
            *,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
    ) -> dict:
        """Tasks forwarded to the caller's home county (subtree).

        `GET /api/v1/home-tasks`
        Roles: office, admin."""
        query = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
        }
        return self._operation(
            "GET",
            "/api/v1/home-tasks",
            query=query,
        )

    def iter_list_home_tasks(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_home_tasks`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/home-tasks",
            limit=page_size, **filters,
        )

    def get_home_task(
            self,
            task_id: str,
    ) -> dict:
        """One task forwarded to the caller's home county.

        `GET /api/v1/home-tasks/{task_id}`
        Roles: office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/home-tasks/{seg(task_id)}",
        )

    def accept_home_task(
            self,
            task_id: str,
    ) -> dict:
        """The home county accepts a forwarded task.

        `POST /api/v1/home-tasks/{task_id}/accept`
        Roles: office."""
        return self._operation(
            "POST",
            f"/api/v1/home-tasks/{seg(task_id)}/accept",
        )

    def answer_home_task(
            self,
            task_id: str,
            result: str,
            *,
            note: str | None | Unset = UNSET,
            reference_number: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """The home county returns its result; the desk's clock continues.

        `POST /api/v1/home-tasks/{task_id}/answer`
        Roles: office."""
        fields = {
            "result": result,
            "note": note,
            "reference_number": reference_number,
        }
        return self._operation(
            "POST",
            f"/api/v1/home-tasks/{seg(task_id)}/answer",
            body=self._body(payload, fields),
        )

    def list_categories(
            self,
            *,
            county_org_id: str | None | Unset = UNSET,
    ) -> dict:
        """Categories with their rules (for a county, or the defaults).

        `GET /api/v1/desk/categories`
        Roles: desk_staff, office, admin."""
        query = {
            "county_org_id": county_org_id,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/categories",
            query=query,
        )

    def set_category_rule(
            self,
            category: str,
            time_limit_days: int,
            materials: list,
            home_must_act: bool,
            *,
            county_org_id: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Set a category's rule: a county's own (office) or the platform default (admin).

        `PUT /api/v1/desk/categories/{category}`
        Roles: office, admin."""
        fields = {
            "county_org_id": county_org_id,
            "time_limit_days": time_limit_days,
            "materials": materials,
            "home_must_act": home_must_act,
        }
        return self._operation(
            "PUT",
            f"/api/v1/desk/categories/{seg(category)}",
            body=self._body(payload, fields),
        )

    def list_staff(
            self,
    ) -> dict:
        """Desk staff of the caller's scope.

        `GET /api/v1/desk/staff`
        Roles: desk_staff, office, admin."""
        return self._operation(
            "GET",
            "/api/v1/desk/staff",
        )

    def put_staff(
            self,
            key_id: str,
            centre_org_id: str,
            name: str,
            *,
            languages: list | Unset = UNSET,
            is_lead: bool | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Register or update a staff member (by API key id): admin, or the centre's lead.

        `PUT /api/v1/desk/staff/{key_id}`
        Roles: admin, desk_staff."""
        fields = {
            "centre_org_id": centre_org_id,
            "name": name,
            "languages": languages,
            "is_lead": is_lead,
        }
        return self._operation(
            "PUT",
            f"/api/v1/desk/staff/{seg(key_id)}",
            body=self._body(payload, fields),
        )

    def get_calendar_year(
            self,
            year: str,
    ) -> dict:
        """A year's statutory holidays and make-up working days, each with its source (chinese-
        calendar or entered).

        `GET /api/v1/desk/calendar/{year}`
        Roles: desk_staff, office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/desk/calendar/{seg(year)}",
        )

    def put_calendar_year(
            self,
            year: str,
            holidays: list,
            workdays: list,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Enter a year's holidays and make-up working days (years chinese-calendar lacks); open
        requests whose count runs into the year are counted again.

        `PUT /api/v1/desk/calendar/{year}`
        Roles: admin."""
        fields = {
            "holidays": holidays,
            "workdays": workdays,
        }
        return self._operation(
            "PUT",
            f"/api/v1/desk/calendar/{seg(year)}",
            body=self._body(payload, fields),
        )

    def preview_deadline(
            self,
            *,
            category: str | Unset = UNSET,
            received_on: str | Unset = UNSET,
            county_org_id: str | None | Unset = UNSET,
    ) -> dict:
        """The deadline and early warning a request of a category would get if received on a given
        day.

        `GET /api/v1/desk/deadline-preview`
        Roles: desk_staff, office, ops, admin."""
        query = {
            "category": category,
            "received_on": received_on,
            "county_org_id": county_org_id,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/deadline-preview",
            query=query,
        )

    def monthly_register(
            self,
            *,
            month: str | Unset = UNSET,
    ) -> dict:
        """Monthly 限时办结 register per centre.

        `GET /api/v1/desk/register`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/register",
            query=query,
        )

    def desk_statistics(
            self,
            *,
            month: str | None | Unset = UNSET,
    ) -> dict:
        """On-time rate, median handling time, backlog and ratings.

        `GET /api/v1/desk/statistics`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/statistics",
            query=query,
        )

    def desk_ledger_csv(
            self,
            *,
            month: str | Unset = UNSET,
    ) -> str:
        """The tracking ledger of a month (every step of every request received in it, Beijing
        times) as a CSV file (UTF-8 with BOM).

        `GET /api/v1/desk/ledger.csv`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/ledger.csv",
            query=query,
        )

    def desk_ledger_xlsx(
            self,
            *,
            month: str | Unset = UNSET,
    ) -> bytes:
        """The tracking ledger of a month as an Excel workbook.

        `GET /api/v1/desk/ledger.xlsx`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/ledger.xlsx",
            query=query,
        )

    def desk_register_csv(
            self,
            *,
            month: str | Unset = UNSET,
    ) -> str:
        """The monthly 限时办结 register per centre as a CSV file (UTF-8 with BOM).

        `GET /api/v1/desk/register.csv`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/register.csv",
            query=query,
        )

    def desk_register_xlsx(
            self,
            *,
            month: str | Unset = UNSET,
    ) -> bytes:
        """The monthly 限时办结 register per centre as an Excel workbook.

        `GET /api/v1/desk/register.xlsx`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/desk/register.xlsx",
            query=query,
        )

    def schedule_service_day(
            self,
            day: str,
            site: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Schedule a service day (逢场式服务) of the caller's centre.

        `POST /api/v1/service-days`
        Roles: desk_staff."""
        fields = {
            "day": day,
            "site": site,
        }
        return self._operation(
            "POST",
            "/api/v1/service-days",
            body=self._body(payload, fields),
        )

    def list_service_days(
            self,
            *,
            month: str | None | Unset = UNSET,
    ) -> dict:
        """Service days of the caller's scope.

        `GET /api/v1/service-days`
        Roles: desk_staff, office, admin."""
        query = {
            "month": month,
        }
        return self._operation(
            "GET",
            "/api/v1/service-days",
            query=query,
        )

    def service_day_report(
            self,
            day_id: str,
    ) -> dict:
        """A service day's bookings and outcome.

        `GET /api/v1/service-days/{day_id}`
        Roles: desk_staff, office, admin."""
        return self._operation(
            "GET",
            f"/api/v1/service-days/{seg(day_id)}",
        )

    def create_campaign(
            self,
            title: str,
            purpose: str,
            opens_on: str,
            closes_on: str,
            *,
            goal: str | Decimal | None | Unset = UNSET,
            beneficiaries: list | Unset = UNSET,
            public: bool | Unset = UNSET,
            draft: bool | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Open (or draft) a fundraising campaign organised by the caller's org.

        `POST /api/v1/campaigns`
        Roles: office."""
        fields = {
            "title": title,
            "purpose": purpose,
            "goal": goal,
            "opens_on": opens_on,
            "closes_on": closes_on,
            "beneficiaries": beneficiaries,
            "public": public,
            "draft": draft,
        }
        return self._operation(
            "POST",
            "/api/v1/campaigns",
            body=self._body(payload, fields),
        )

    def list_campaigns(
            self,
            *,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
    ) -> dict:
        """Campaigns organised in the caller's subtree.

        `GET /api/v1/campaigns`
        Roles: office, ops, admin."""
        query = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
        }
        return self._operation(
            "GET",
            "/api/v1/campaigns",
            query=query,
        )

    def iter_list_campaigns(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_campaigns`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/campaigns",
            limit=page_size, **filters,
        )

    def get_campaign(
            self,
            campaign_id: str,
    ) -> dict:
        """One campaign with exact totals (cash and goods apart).

        `GET /api/v1/campaigns/{campaign_id}`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}",
        )

    def open_campaign(
            self,
            campaign_id: str,
    ) -> dict:
        """Open a draft campaign (emits campaign_opened).

        `POST /api/v1/campaigns/{campaign_id}/open`
        Roles: office."""
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/open",
        )

    def close_campaign(
            self,
            campaign_id: str,
    ) -> dict:
        """Close an open campaign by hand (emits campaign_closed); later gifts are marked late.

        `POST /api/v1/campaigns/{campaign_id}/close`
        Roles: office."""
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/close",
        )

    def settle_campaign(
            self,
            campaign_id: str,
    ) -> dict:
        """Settle a closed campaign: every yuan handed over, nothing pending.

        `POST /api/v1/campaigns/{campaign_id}/settle`
        Roles: office."""
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/settle",
        )

    def record_donation(
            self,
            campaign_id: str,
            amount: str | Decimal,
            *,
            member_id: str | None | Unset = UNSET,
            donor_name: str | None | Unset = UNSET,
            anonymous: bool | Unset = UNSET,
            public_name: str | Unset = UNSET,
            channel: str | Unset = UNSET,
            payload: dict | None = None,
            idempotency_key: str | None = None,
    ) -> dict:
        """Record a cash gift (amount as a decimal string, exact to the fen).

        `POST /api/v1/campaigns/{campaign_id}/donations`
        Roles: office."""
        fields = {
            "amount": amount,
            "member_id": member_id,
            "donor_name": donor_name,
            "anonymous": anonymous,
            "public_name": public_name,
            "channel": channel,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/donations",
            body=self._body(payload, fields),
            idempotency_key=idempotency_key or self._new_idempotency_key(),
        )

    def record_in_kind_donation(
            self,
            campaign_id: str,
            items: list,
            valued_by: str,
            *,
            member_id: str | None | Unset = UNSET,
            donor_name: str | None | Unset = UNSET,
            anonymous: bool | Unset = UNSET,
            public_name: str | Unset = UNSET,
            payload: dict | None = None,
            idempotency_key: str | None = None,
    ) -> dict:
        """Record a gift of goods: items with quantity, unit and valuation, and the valuer.

        `POST /api/v1/campaigns/{campaign_id}/in-kind-donations`
        Roles: office."""
        fields = {
            "items": items,
            "valued_by": valued_by,
            "member_id": member_id,
            "donor_name": donor_name,
            "anonymous": anonymous,
            "public_name": public_name,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/in-kind-donations",
            body=self._body(payload, fields),
            idempotency_key=idempotency_key or self._new_idempotency_key(),
        )

    def record_donation_batch(
            self,
            campaign_id: str,
            reference: str,
            declared_count: int,
            declared_total: str | Decimal,
            gifts: list,
            *,
            different_list: bool | Unset = UNSET,
            payload: dict | None = None,
            idempotency_key: str | None = None,
    ) -> dict:
        """Enter a paper list of cash gifts: all or nothing, when count and total match.

        `POST /api/v1/campaigns/{campaign_id}/donation-batches`
        Roles: office."""
        fields = {
            "reference": reference,
            "different_list": different_list,
            "declared_count": declared_count,
            "declared_total": declared_total,
            "gifts": gifts,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/donation-batches",
            body=self._body(payload, fields),
            idempotency_key=idempotency_key or self._new_idempotency_key(),
        )

    def get_donation(
            self,
            campaign_id: str,
            donation_id: str,
    ) -> dict:
        """One gift (its receipt: number, donor, amount or goods, late, voided).

        `GET /api/v1/campaigns/{campaign_id}/donations/{donation_id}`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/donations/{seg(donation_id)}",
        )

    def void_donation(
            self,
            campaign_id: str,
            donation_id: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Void a wrong entry with a reason (kept in the ledger; totals follow).

        `POST /api/v1/campaigns/{campaign_id}/donations/{donation_id}/void`
        Roles: office."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/donations/{seg(donation_id)}/void",
            body=self._body(payload, fields),
        )

    def request_disbursement(
            self,
            campaign_id: str,
            beneficiary_id: str,
            kind: str,
            purpose: str,
            *,
            amount: str | Decimal | None | Unset = UNSET,
            items: list | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Ask to hand cash or goods to a beneficiary (approval comes next).

        `POST /api/v1/campaigns/{campaign_id}/disbursements`
        Roles: office."""
        fields = {
            "beneficiary_id": beneficiary_id,
            "kind": kind,
            "amount": amount,
            "items": items,
            "purpose": purpose,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/disbursements",
            body=self._body(payload, fields),
        )

    def list_disbursements(
            self,
            campaign_id: str,
    ) -> dict:
        """A campaign's disbursements, every status.

        `GET /api/v1/campaigns/{campaign_id}/disbursements`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/disbursements",
        )

    def approve_disbursement(
            self,
            campaign_id: str,
            disbursement_id: str,
            approver: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Approve: promises the cash or goods; 409 when not enough is left.

        `POST /api/v1/campaigns/{campaign_id}/disbursements/{disbursement_id}/approve`
        Roles: office."""
        fields = {
            "approver": approver,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/disbursements/{seg(disbursement_id)}/approve",
            body=self._body(payload, fields),
        )

    def pay_disbursement(
            self,
            campaign_id: str,
            disbursement_id: str,
            acknowledgement_ref: str,
            disbursed_on: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Hand over an approved disbursement with the recipient's acknowledgement (emits
        disbursement_made).

        `POST /api/v1/campaigns/{campaign_id}/disbursements/{disbursement_id}/pay`
        Roles: office."""
        fields = {
            "acknowledgement_ref": acknowledgement_ref,
            "disbursed_on": disbursed_on,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/disbursements/{seg(disbursement_id)}/pay",
            body=self._body(payload, fields),
        )

    def reject_disbursement(
            self,
            campaign_id: str,
            disbursement_id: str,
            reason: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Refuse a request or withdraw an approval before payment.

        `POST /api/v1/campaigns/{campaign_id}/disbursements/{disbursement_id}/reject`
        Roles: office."""
        fields = {
            "reason": reason,
        }
        return self._operation(
            "POST",
            f"/api/v1/campaigns/{seg(campaign_id)}/disbursements/{seg(disbursement_id)}/reject",
            body=self._body(payload, fields),
        )

    def get_ledger(
            self,
            campaign_id: str,
            *,
            after: int | Unset = UNSET,
            limit: int | Unset = UNSET,
    ) -> dict:
        """A campaign's full ledger: every gift (voided too), disbursement and total.

        `GET /api/v1/campaigns/{campaign_id}/ledger`
        Roles: office, ops, admin."""
        query = {
            "after": after,
            "limit": limit,
        }
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/ledger",
            query=query,
        )

    def get_public_ledger(
            self,
            campaign_id: str,
            *,
            after: int | Unset = UNSET,
            limit: int | Unset = UNSET,
    ) -> dict:
        """The public ledger (公示) of a campaign marked public: donors as they chose, paid
        disbursements, totals and progress.

        `GET /api/v1/public/campaigns/{campaign_id}/ledger`
        No key needed."""
        query = {
            "after": after,
            "limit": limit,
        }
        return self._operation(
            "GET",
            f"/api/v1/public/campaigns/{seg(campaign_id)}/ledger",
            query=query,
        )

    def export_ledger_csv(
            self,
            campaign_id: str,
    ) -> str:
        """The ledger as a CSV file (UTF-8 with BOM).

        `GET /api/v1/campaigns/{campaign_id}/ledger.csv`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/ledger.csv",
        )

    def export_ledger_xlsx(
            self,
            campaign_id: str,
    ) -> bytes:
        """The ledger as an Excel workbook.

        `GET /api/v1/campaigns/{campaign_id}/ledger.xlsx`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/ledger.xlsx",
        )

    def reconcile_campaign(
            self,
            campaign_id: str,
    ) -> dict:
        """Check received − voided − disbursed = balance, goods per item, receipts.

        `GET /api/v1/campaigns/{campaign_id}/reconciliation`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/campaigns/{seg(campaign_id)}/reconciliation",
        )

    def organiser_totals(
            self,
    ) -> dict:
        """Totals per organiser org in the caller's subtree.

        `GET /api/v1/donation-reports/organisers`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            "/api/v1/donation-reports/organisers",
        )

    def member_giving(
            self,
            member_id: str,
    ) -> dict:
        """A member's gifts to the campaigns the caller sees.

        `GET /api/v1/donation-reports/members/{member_id}`
        Roles: office, ops, admin."""
        return self._operation(
            "GET",
            f"/api/v1/donation-reports/members/{seg(member_id)}",
        )

    def create_key(
            self,
            role: str,
            name: str,
            *,
            org_id: str | None | Unset = UNSET,
            expires_at: str | None | Unset = UNSET,
            rate_limit: str | None | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Create an API key; the plain key is in this answer only.

        `POST /api/v1/keys`
        Roles: admin."""
        fields = {
            "role": role,
            "name": name,
            "org_id": org_id,
            "expires_at": expires_at,
            "rate_limit": rate_limit,
        }
        return self._operation(
            "POST",
            "/api/v1/keys",
            body=self._body(payload, fields),
        )

    def list_keys(
            self,
    ) -> dict:
        """Every key with its state, expiry and last use (never a secret).

        `GET /api/v1/keys`
        Roles: admin."""
        return self._operation(
            "GET",
            "/api/v1/keys",
        )

    def rotate_key(
            self,
            key_id: str,
            *,
            overlap_seconds: int | Unset = UNSET,
            payload: dict | None = None,
    ) -> dict:
        """Issue a replacement key; the old one keeps working for the overlap window (a key cannot
        rotate itself: 409).

        `POST /api/v1/keys/{key_id}/rotate`
        Roles: admin."""
        fields = {
            "overlap_seconds": overlap_seconds,
        }
        return self._operation(
            "POST",
            f"/api/v1/keys/{seg(key_id)}/rotate",
            body=self._body(payload, fields),
        )

    def revoke_key(
            self,
            key_id: str,
    ) -> dict:
        """Revoke a key at once (a key cannot revoke itself: 409).

        `POST /api/v1/keys/{key_id}/revoke`
        Roles: admin."""
        return self._operation(
            "POST",
            f"/api/v1/keys/{seg(key_id)}/revoke",
        )

    def create_staff_user(
            self,
            username: str,
            display_name: str,
            org_id: str,
            password: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Create a personal console login for a person at a service centre.

        `POST /api/v1/staff-users`
        Roles: admin."""
        fields = {
            "username": username,
            "display_name": display_name,
            "org_id": org_id,
            "password": password,
        }
        return self._operation(
            "POST",
            "/api/v1/staff-users",
            body=self._body(payload, fields),
        )

    def list_staff_users(
            self,
    ) -> dict:
        """Every staff login (never a password).

        `GET /api/v1/staff-users`
        Roles: admin."""
        return self._operation(
            "GET",
            "/api/v1/staff-users",
        )

    def create_session(
            self,
            username: str,
            password: str,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Sign in with a personal staff login; returns a short-lived session token.

        `POST /api/v1/sessions`
        No key needed."""
        fields = {
            "username": username,
            "password": password,
        }
        return self._operation(
            "POST",
            "/api/v1/sessions",
            body=self._body(payload, fields),
        )

    def end_session(
            self,
    ) -> None:
        """Sign out: end the console session sent as the bearer token.

        `DELETE /api/v1/sessions/current`
        Roles: desk_staff."""
        return self._operation(
            "DELETE",
            "/api/v1/sessions/current",
        )

    def query_audit(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            since: str | None | Unset = UNSET,
            until: str | None | Unset = UNSET,
            outcome: str | None | Unset = UNSET,
            actor_id: str | None | Unset = UNSET,
            route: str | None | Unset = UNSET,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
    ) -> dict:
        """Audit records (writes and denied requests), oldest first, by org and period.

        `GET /api/v1/audit`
        Roles: admin."""
        query = {
            "org_id": org_id,
            "since": since,
            "until": until,
            "outcome": outcome,
            "actor_id": actor_id,
            "route": route,
            "limit": limit,
            "cursor": cursor,
        }
        return self._operation(
            "GET",
            "/api/v1/audit",
            query=query,
        )

    def iter_query_audit(
            self, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `query_audit`, page after page (follows next_cursor)."""
        return self.paginate(
            "/api/v1/audit",
            limit=page_size, **filters,
        )

    def export_audit(
            self,
            *,
            org_id: str | None | Unset = UNSET,
            since: str | None | Unset = UNSET,
            until: str | None | Unset = UNSET,
            outcome: str | None | Unset = UNSET,
            actor_id: str | None | Unset = UNSET,
            route: str | None | Unset = UNSET,
    ) -> str:
        """The same records as CSV (at most 100000 rows; narrow the period for more).

        `GET /api/v1/audit/export`
        Roles: admin."""
        query = {
            "org_id": org_id,
            "since": since,
            "until": until,
            "outcome": outcome,
            "actor_id": actor_id,
            "route": route,
        }
        return self._operation(
            "GET",
            "/api/v1/audit/export",
            query=query,
        )

    def create_webhook(
            self,
            url: str,
            event_types: list,
            *,
            payload: dict | None = None,
    ) -> dict:
        """Register an endpoint for event types; events inside the key's org subtree are POSTed to
        it, signed (payloads: the document's `webhooks` section). Only http(s) URLs of
        public hosts.

        `POST /api/v1/webhooks`
        Roles: office."""
        fields = {
            "url": url,
            "event_types": event_types,
        }
        return self._operation(
            "POST",
            "/api/v1/webhooks",
            body=self._body(payload, fields),
        )

    def list_webhooks(
            self,
    ) -> dict:
        """The endpoints of the caller's subtree (never their secrets).

        `GET /api/v1/webhooks`
        Roles: office, admin."""
        return self._operation(
            "GET",
            "/api/v1/webhooks",
        )

    def disable_webhook(
            self,
            webhook_id: str,
    ) -> dict:
        """Stop sending to an endpoint: nothing more is sent to it (deliveries still waiting fail,
        saying why; replaying one is a 409).

        `POST /api/v1/webhooks/{webhook_id}/disable`
        Roles: office, admin."""
        return self._operation(
            "POST",
            f"/api/v1/webhooks/{seg(webhook_id)}/disable",
        )

    def list_webhook_deliveries(
            self,
            webhook_id: str,
            *,
            limit: int | Unset = UNSET,
            cursor: str | None | Unset = UNSET,
            status: str | None | Unset = UNSET,
    ) -> dict:
        """Delivery log: every event sent, every attempt with the response code and a short reason
        of the platform's own (never the receiver's answer), oldest first.

        `GET /api/v1/webhooks/{webhook_id}/deliveries`
        Roles: office, admin."""
        query = {
            "limit": limit,
            "cursor": cursor,
            "status": status,
        }
        return self._operation(
            "GET",
            f"/api/v1/webhooks/{seg(webhook_id)}/deliveries",
            query=query,
        )

    def iter_list_webhook_deliveries(
            self, webhook_id: str, *, page_size: int = 100, **filters,
    ) -> Iterator[dict]:
        """Every item of `list_webhook_deliveries`, page after page (follows next_cursor)."""
        return self.paginate(
            f"/api/v1/webhooks/{seg(webhook_id)}/deliveries",
            limit=page_size, **filters,
        )

    def replay_webhook_delivery(
            self,
            delivery_id: str,
    ) -> dict:
        """Send a delivery again (after a fix on the receiver's side), as a new round of attempts;
        409 if the webhook is disabled.

        `POST /api/v1/webhook-deliveries/{delivery_id}/replay`
        Roles: office, admin."""
        return self._operation(
            "POST",
            f"/api/v1/webhook-deliveries/{seg(delivery_id)}/replay",
        )
