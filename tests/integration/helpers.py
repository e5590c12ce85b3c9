"""Building blocks for the cross-service tests: org trees, keys and JSON calls via the gateway."""
import json
import re

from gateway.routes.operations import ROUTES as OPERATION_ROUTES
from services.members.id_numbers import check_char
from tests.fixtures import wait_for


def id_number(serial: int, region: str = "110105", birth: str = "19800101") -> str:
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + check_char(first17)


_VALIDATORS = {}


def check_reply_against_openapi(gateway, method: str, path: str, status: int, payload) -> None:
    """Every reply a test receives must be one the OpenAPI document promises: its status is
    listed for the operation and its JSON body fits that status's schema. So the document is
    checked against what is really sent by every operation the suite calls."""
    import jsonschema_rs
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, _args = gateway.url_map.bind("localhost").match(path.split("?")[0],
                                                                   method=method)
    except HTTPException:
        return  # no such route: the gateway's own 404/405, documented as errors
    route = gateway.routes[endpoint]
    if route in OPERATION_ROUTES:
        return  # health, docs, console: not operations of the API document
    document = gateway.openapi_document()
    operation = document["paths"][re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", route.path)][
        method.lower()]
    answer = operation["responses"].get(str(status)) or operation["responses"].get("default")
    assert answer is not None, (f"{method} {route.path} answered {status}, which its OpenAPI "
                                f"operation does not list: {payload}")
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if schema is None or payload is None:
        return
    key = (route.name, str(status))
    if key not in _VALIDATORS:
        _VALIDATORS[key] = jsonschema_rs.validator_for(
            {**schema, "components": document.get("components", {})})
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in _VALIDATORS[key].iter_errors(payload)]
    assert not errors, f"{method} {route.path} {status} does not match its schema: {errors[:5]}"


class Http:
    """JSON over the gateway app with one API key."""

    def __init__(self, client, key: str | None):
        self.client, self.key = client, key

    def _headers(self, extra):
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, raw=None, headers=None, query=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(path, method=method, data=data, query_string=query,
                                    headers=self._headers(headers),
                                    content_type="application/json")
        payload = json.loads(response.get_data(as_text=True) or "null")
        check_reply_against_openapi(self.client.application, method, path,
                                    response.status_code, payload)
        return response.status_code, payload

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)


def build_world(platform):
    """Two sides, each: county → township (home), committee → service centre → branch (host),
    and keys for all of them.
    Waits until the desk and donations projections know every org unit."""
    http = platform.http()
    admin = Http(http, platform.key("admin", None, "admin"))

    def org(kind, name, parent=None):
        status, body = admin.post("/api/v1/org-units", {"kind": kind, "name": name,
                                                        "parent_id": parent})
        assert status == 201, body
        return body["id"]

    world = {"admin": admin}
    for side in ("a", "b"):
        county = org("county", f"county-{side}")
        township = org("township", f"township-{side}", county)
        committee = org("joint_committee", f"committee-{side}")
        # The centre's staff see the members hosted by the branches under it.
        centre = org("service_centre", f"centre-{side}", committee)
        branch = org("branch", f"branch-{side}", centre)
        world[side] = {
            "county": county, "township": township, "committee": committee, "branch": branch,
            "centre": centre,
            "office": Http(http, platform.key("office", county, f"office {side}")),
            "host_office": Http(http, platform.key("office", committee, f"host office {side}")),
            "branch_office": Http(http, platform.key("office", branch, f"branch office {side}")),
            "desk": Http(http, platform.key("desk_staff", centre, f"desk {side}")),
        }
    org_count = 10
    for service in ("services_desk", "donations"):
        if service in platform.runners:
            wait_for(lambda s=service: platform.scalar(
                s, "SELECT count(*) FROM org_units_projection") == org_count,
                message=f"{service} to learn the org trees")
    return world


def register_member(side: dict, serial: int, **overrides):
    body = {"name": f"党员{serial}", "id_number": id_number(serial), "phone": "13800001234",
            "home_org_id": side["township"], "host_org_id": side["branch"]}
    body.update(overrides)
    status, member = side["office"].post("/api/v1/members", body)
    assert status == 201, member
    return member


def wait_for_member_projection(platform, service: str, member_id: str):
    wait_for(lambda: platform.scalar(
        service, "SELECT count(*) FROM members_projection WHERE member_id = :m", m=member_id) == 1,
        message=f"{service} to learn member {member_id}")
