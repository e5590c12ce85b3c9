"""A county office's program using the Python client (gateway/client) over real HTTP: typed
calls, pagination across pages, retries that honour Retry-After, an idempotent donation that a
retry records once, errors by status family, and the operations beyond members and gifts
(self-reports, notices, talent, gift batches, webhook disable and replay). Also: the client has
a method for every operation of the OpenAPI document, its generated part is up to date, and
it works installed on its own as `liudong_client`."""
import subprocess
import sys
from pathlib import Path

import pytest

import gateway.client
from gateway.client import (
    ApiError,
    Client,
    Conflict,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unavailable,
    ValidationError,
    error_class,
)
from gateway.client.generate import generate
from gateway.openapi import build_document
from gateway.ratelimit import RateLimits
from gateway.webhooks.tests.receiver import Receiver
from tests.fixtures import wait_for
from tests.integration.helpers import build_world, id_number, wait_for_member_projection
from tests.integration.test_gateway_webhooks import served

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_county_office_program_through_the_client(platform):
    platform.start()
    world = build_world(platform)
    with served(platform.gateway) as base_url:
        import eventlet
        # the client blocks on sockets; eventlet's patched stdlib keeps the served gateway
        # answering meanwhile
        office = Client(base_url, world["a"]["office"].key, backoff=0.05)
        assert office.health()["status"] == "ok"
        units = {u["id"] for u in office.org_units()}
        assert world["a"]["county"] in units and world["b"]["county"] not in units

        registered = [office.register_member(f"党员{n}", id_number(200 + n), "13800001234",
                                             world["a"]["township"], world["a"]["branch"])
                      for n in range(5)]
        listed = list(office.members(page_size=2))          # three pages
        assert [m["id"] for m in listed] == [m["id"] for m in registered]

        try:
            office.register_member("坏", "123", "13800001234", world["a"]["township"])
        except ValidationError as exc:
            assert exc.status == 400 and "id_number" in exc.fields and exc.request_id
        else:
            pytest.fail("a bad ID number was accepted")
        with pytest.raises(NotFound) as missing:
            office.member(world["b"]["county"])
        assert missing.value.status == 404

        branch = Client(base_url, world["a"]["branch_office"].key, backoff=0.05)
        campaign = branch.create_campaign("助学", "school_supplies", "2026-07-01", "2026-08-01",
                                          goal="10000.00")
        wait_for_member_projection(platform, "donations", registered[0]["id"])
        gift = branch.record_donation(campaign["id"], "3000.00", member_id=registered[0]["id"],
                                      idempotency_key="receipt-0001")
        again = branch.record_donation(campaign["id"], "3000.00",
                                       member_id=registered[0]["id"],
                                       idempotency_key="receipt-0001")
        assert again["id"] == gift["id"]
        assert branch.campaign(campaign["id"])["raised_total"] == "3000.00"
        assert [c["id"] for c in branch.campaigns()] == [campaign["id"]]

        # over the key's rate limit the client waits Retry-After and goes on
        platform.gateway.rate_limits = RateLimits(default="2/second")
        slow = Client(base_url, world["a"]["office"].key, backoff=0.05)
        answers = [slow.member(registered[0]["id"])["id"] for _ in range(5)]
        assert answers == [registered[0]["id"]] * 5
        admin_key = world["admin"].key
        platform.gateway.rate_limits = RateLimits(default="1000/minute")
        audit = Client(base_url, admin_key).request("GET", "/api/v1/audit",
                                                    query={"outcome": "denied"})
        assert any(r["status"] == 429 for r in audit["items"])
        # with retries off, the 429 reaches the program
        platform.gateway.rate_limits = RateLimits(default="1/minute")
        impatient = Client(base_url, world["a"]["office"].key, retries=0)
        impatient.org_units()
        with pytest.raises(RateLimited) as limited:
            impatient.org_units()
        assert limited.value.status == 429 and limited.value.retry_after >= 1
        eventlet.sleep(0)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_operations_beyond_members_and_gifts_through_the_client(platform):
    platform.start(webhooks={"WEBHOOK_POLL_SECONDS": 0.1,
                             "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"})
    world = build_world(platform)
    a = world["a"]
    receiver = Receiver().start()
    with served(platform.gateway) as base_url:
        office = Client(base_url, a["office"].key, backoff=0.05)
        host = Client(base_url, a["host_office"].key, backoff=0.05)
        branch = Client(base_url, a["branch_office"].key, backoff=0.05)
        desk = Client(base_url, a["desk"].key, backoff=0.05)

        # webhooks: internal addresses are refused, with the reason on the field
        with pytest.raises(ValidationError) as refused:
            office.create_webhook("http://169.254.169.254/latest/meta-data/",
                                  ["member_flow_accepted"])
        assert "link-local" in refused.value.fields["url"][0]
        hook = office.create_webhook(receiver.url, ["member_flow_accepted"])
        assert [h["id"] for h in office.webhooks()] == [hook["id"]]

        # a self-report of a newcomer, verified by the host side
        report = branch.create_self_report("报到人", id_number(300), "13800007777",
                                           a["township"], a["branch"])
        assert [r["id"] for r in host.iter_list_self_reports()] == [report["id"]]
        with pytest.raises(PermissionDenied):
            desk.accept_self_report(report["id"])
        member_id = host.accept_self_report(report["id"])["member_id"]
        wait_for(lambda: len(receiver.got) == 1, message="the home county's delivery")
        [delivery] = office.webhook_deliveries(hook["id"])
        wait_for(lambda: next(office.webhook_deliveries(hook["id"]))["status"] == "delivered",
                 message="the delivery to be logged")

        # disabled means nothing is sent: a replay is a Conflict
        office.disable_webhook(hook["id"])
        with pytest.raises(Conflict):
            office.replay_webhook_delivery(delivery["id"])
        with pytest.raises(NotFound):
            Client(base_url, world["b"]["office"].key).replay_webhook_delivery(delivery["id"])

        # a letter from home, and returning talent
        notice = office.publish_notice(a["county"], "家乡来信", "致流动党员的一封信")
        assert office.get_notice(notice["id"])["title"] == "家乡来信"
        office.member_return_home(member_id, reason="回乡创业")
        talent = office.record_talent_return(member_id, "business_founder", "2026-03-01")
        assert talent["member_id"] == member_id

        # a paper list: the same reference twice is a Conflict unless it is another list
        campaign = branch.create_campaign("助学", "school_supplies", "2026-11-01", "2099-12-31")
        paper = dict(reference="第一次支部大会", declared_count=1, declared_total="50.00",
                     gifts=[{"amount": "50.00", "donor_name": "老乡"}])
        first = branch.record_donation_batch(campaign["id"], **paper)
        with pytest.raises(Conflict) as twice:
            branch.record_donation_batch(campaign["id"], **paper)
        assert "reference" in twice.value.fields
        second = branch.record_donation_batch(campaign["id"], **paper, different_list=True)
        assert second["id"] != first["id"]
        assert branch.campaign(campaign["id"])["cash_total"] == "100.00"
    receiver.stop()


def test_every_operation_of_the_document_has_a_client_method():
    document = build_document()
    operation_ids = [op["operationId"] for ops in document["paths"].values()
                     for op in ops.values()]
    missing = [name for name in operation_ids if not callable(getattr(Client, name, None))]
    assert not missing and len(operation_ids) > 100


def test_the_generated_operations_are_up_to_date():
    written = Path(gateway.client.__file__).with_name("operations.py").read_text()
    assert written == generate(build_document()), \
        "the routes changed: run `.venv/bin/python -m gateway.client.generate`"


@pytest.mark.parametrize("status, family", [
    (400, ValidationError), (413, ValidationError), (404, NotFound), (409, Conflict),
    (403, PermissionDenied), (429, RateLimited), (503, Unavailable), (504, OutcomeUnknown),
    (500, ServerError), (418, ApiError)])
def test_errors_come_by_status_family(status, family):
    assert error_class(status) is family and issubclass(family, ApiError)
    assert issubclass(OutcomeUnknown, Unavailable)


def test_the_client_works_installed_on_its_own(tmp_path):
    """As the wheel built from gateway/client/pyproject.toml installs it: the directory as
    `liudong_client`, with nothing of the platform importable."""
    import tomllib
    package_dir = Path(gateway.client.__file__).parent
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["package-dir"] == {"liudong_client": "."}
    assert project["project"]["dependencies"] == []
    (tmp_path / "liudong_client").symlink_to(package_dir)
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); import liudong_client as c; "
        "assert 'gateway' not in sys.modules and 'nameko' not in sys.modules; "
        "assert callable(c.Client('http://x').replay_webhook_delivery); "
        "assert issubclass(c.Conflict, c.ApiError); print('ok')")
    result = subprocess.run([sys.executable, "-I", "-c", check, str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "ok", result.stderr
