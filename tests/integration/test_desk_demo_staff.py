"""The demo data (`make run`) through a real HTTP gateway on PostgreSQL: the Heishui centre has
desk staff with languages and console logins, so language routing works in the demo."""
import sys

import eventlet
import pytest

from tests.fixtures import REPO

from .helpers import Http

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_demo_centre_has_staff_with_languages_and_console_logins(platform):
    from gateway.server import serve
    sys.path.insert(0, str(REPO / "deploy" / "local"))
    try:
        import demo_data
    finally:
        sys.path.remove(str(REPO / "deploy" / "local"))
    platform.start("members", "services_desk", "donations")
    listener = eventlet.listen(("127.0.0.1", 0))
    server = eventlet.spawn(serve, listener, platform.gateway)
    try:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
        admin_key = platform.key("admin", None, "demo admin")
        keys = demo_data.load(base, admin_key, platform.key)
    finally:
        server.kill()
        listener.close()

    logins = {label.split()[2]: password for label, password in keys.items()
              if label.startswith("console login ")}
    assert set(logins) == {"zhuoma", "wangli", "tashi"}
    admin = Http(platform.http(), admin_key)
    status, staff = admin.get("/api/v1/desk/staff")
    assert status == 200, staff
    by_name = {s["name"]: s for s in staff["items"]}
    assert (by_name["泽仁卓玛"]["languages"], by_name["泽仁卓玛"]["is_lead"]) == (["bo", "zh"], False)
    assert (by_name["王丽"]["languages"], by_name["王丽"]["is_lead"]) == (["zh"], False)
    assert by_name["扎西"]["is_lead"] is True

    def signed_in(username):
        status, session = Http(platform.http(), None).post("/api/v1/sessions", {
            "username": username, "password": logins[username]})
        assert status == 201, session
        return Http(platform.http(), session["token"])

    zhuoma, wangli = signed_in("zhuoma"), signed_in("wangli")
    status, listed = zhuoma.get("/api/v1/requests")
    [tibetan] = [r for r in listed["items"] if r["language"] == "bo"]
    status, refused = wangli.post(f"/api/v1/requests/{tibetan['id']}/claim")
    assert status == 403 and refused["error"]["code"] == "language_mismatch", refused
    status, claimed = zhuoma.post(f"/api/v1/requests/{tibetan['id']}/claim")
    assert status == 200 and claimed["first_owner"] == by_name["泽仁卓玛"]["key_id"], claimed
