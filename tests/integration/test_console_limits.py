"""The console's own rate limits: before sign-in per client address (the public limit), after
sign-in per person, so that a centre's clerks behind one address, each console polling its
queue, do not use up one another's budget."""
import pytest

from gateway import keys
from gateway.ratelimit import RateLimits

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_console_is_limited_per_address_before_sign_in_and_per_person_after(platform):
    platform.gateway.rate_limits = RateLimits(default="4/minute", public="2/minute")
    sessions = keys.session_factory(platform.databases.url("gateway"))
    tokens = []
    with sessions() as session:
        for username in ("clerk.one", "clerk.two"):
            keys.create_staff_user(session, username, username, "centre-1",
                                   "correct horse battery")
            tokens.append(keys.sign_in(session, username, "correct horse battery")[1])
        session.commit()
    office = {"REMOTE_ADDR": "198.51.100.7"}
    page = "/console/static/console.css"
    anonymous = platform.http()
    assert [anonymous.get(page, environ_base=office).status_code for _ in range(3)] == [
        200, 200, 429]
    for token in tokens:  # the same address, each clerk with a limit of their own
        clerk = platform.http()
        clerk.set_cookie("ld_console", token, path="/console")
        assert [clerk.get(page, environ_base=office).status_code for _ in range(5)] == [
            200, 200, 200, 200, 429]
