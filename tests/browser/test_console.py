"""The staff console in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser) against the platform's real processes (services and gateway) on
PostgreSQL and RabbitMQ. A clerk's day: sign in, the queue, claim → 一次性告知 → supplement →
complete with the ledger showing each step, a lead's reassignment and extension, an overdue
request marked, a request from the API appearing without a reload, paging to the newest of 150,
statistics charts, the register download, and CSRF / cross-origin POSTs refused.

Screenshots of the queue and the detail view at 1366×768 and 390×844 go to the test output
folder (LIUDONG_TEST_OUTPUT, default var/test-output/console)."""
import csv
import io
import os
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from services.plumbing.clock import today_in_china
from tests.e2e.test_processes import client, make_key, stack  # noqa: F401  (the fixture)
from tests.fixtures import REPO, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("LIUDONG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("LIUDONG_TEST_OUTPUT", REPO / "var" / "test-output" / "console"))
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TIBETAN_NAME = "བཀྲ་ཤིས་སྒྲོལ་མ"
PASSWORD = "correct horse battery staple"


def _retrying(call, attempts=80):
    """The desk learns org units from events: a moment after registration it knows them."""
    for _ in range(attempts):
        response = call()
        if response.status_code == 400 and ("scope" in response.text or "no such org unit"
                                            in response.text or "not known" in response.text):
            time.sleep(0.25)
            continue
        return response
    return response


@pytest.fixture(scope="module")
def centre(stack):  # noqa: F811
    base = stack["base"]
    admin = client(make_key(stack, "admin", name="browser admin"))

    def org(kind, name, parent=None):
        response = admin.post(f"{base}/org-units", json={"kind": kind, "name": name,
                                                        "parent_id": parent})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    county = org("county", "黑水县")
    centre_id = org("service_centre", "黑水县驻成都党群服务中心")
    staff = {}
    for username, name, languages, lead in (("zhuoma", "泽仁卓玛", ["bo"], False),
                                            ("wangli", "王丽", [], False),
                                            ("tashi", "扎西", ["bo"], True)):
        user = admin.post(f"{base}/staff-users", json={
            "username": username, "display_name": name, "org_id": centre_id,
            "password": PASSWORD})
        assert user.status_code == 201, user.text
        key_id = f"u_{user.json()['id']}"
        registered = _retrying(lambda key_id=key_id, name=name, languages=languages, lead=lead:
                               admin.put(f"{base}/desk/staff/{key_id}", json={
                                   "centre_org_id": centre_id, "name": name,
                                   "languages": languages, "is_lead": lead}))
        assert registered.status_code == 200, registered.text
        staff[username] = {"key_id": key_id, "name": name}
    desk = client(make_key(stack, "desk_staff", centre_id, "window clerk's system"))
    return {"base": base, "root": base.rsplit("/api/v1", 1)[0], "county": county,
            "centre": centre_id, "desk": desk, "staff": staff, "env": stack["env"]}


def submit(centre, name, category="social_insurance", language="zh", **extra):
    body = {"requester_name": name, "category": category, "language": language,
            "description": extra.pop("description", "代办社保转移接续"),
            "requester_home_org_id": centre["county"], **extra}
    response = _retrying(lambda: centre["desk"].post(f"{centre['base']}/requests", json=body))
    assert response.status_code == 201, response.text
    return response.json()


def api_as(centre, username):
    response = requests.post(f"{centre['base']}/sessions",
                             json={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 201, response.text
    return client(response.json()["token"])


def fetch(centre, request_id):
    response = centre["desk"].get(f"{centre['base']}/requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is needed at {CHROMIUM} (make test installs it: "
                    "apt-get install --no-install-recommends chromium fonts-noto-cjk "
                    "fonts-wqy-microhei fonts-tibetan-machine)")
    from playwright.sync_api import sync_playwright
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def signed_in(browser, centre, username, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(centre["root"] + "/console")
    assert page.title() == "登录 · 服务中心工作台"
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")  # the keyboard is enough
    page.wait_for_url(re.compile(r"/console$"))
    return page


def row(page, request_id):
    return page.locator(f"#row-{request_id}")


def ledger_steps(page):
    return page.locator("table.ledger tbody tr td:nth-child(2)").all_inner_texts()


def test_sign_in_and_the_queue_shows_a_tibetan_request_with_deadline_and_time_left(
        browser, centre):
    tibetan = submit(centre, TIBETAN_NAME, language="bo", requester_phone="13900000013")
    submit(centre, "王建国", category="job_help")
    page = signed_in(browser, centre, "zhuoma")
    assert page.title().startswith("待办（")
    assert page.locator("header.top").inner_text().count("泽仁卓玛") == 1
    line = row(page, tibetan["id"])
    name = line.locator("a.name")
    assert name.inner_text() == TIBETAN_NAME and name.get_attribute("lang") == "bo"
    assert tibetan["deadline"] in line.inner_text()
    assert re.search(r"还剩 \d+ 个工作日", line.locator(".left").inner_text())
    assert "on_track" in line.get_attribute("class")
    # the Tibetan speaker sees the Tibetan request first in 待办
    first = page.locator("table.queue tbody tr").first
    assert first.get_attribute("id") == f"row-{tibetan['id']}"
    # counts on the tabs
    assert page.locator("a.tab[data-queue=todo] .count").inner_text() == "2"
    page.screenshot(path=OUTPUT / "queue-1366x768.png", full_page=False)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.locator(f"#row-{tibetan['id']} a.name").is_visible()
    page.screenshot(path=OUTPUT / "queue-390x844.png", full_page=False)
    page.context.close()


def test_claim_notice_supplement_and_complete_from_the_page_with_the_ledger(browser, centre):
    request = submit(centre, "སྒྲོལ་མ", language="bo", requester_phone="13900000014")
    # a Chinese-only clerk is refused in plain Chinese, next to the control, and nothing changes
    other = signed_in(browser, centre, "wangli")
    other.goto(f"{centre['root']}/console/requests/{request['id']}")
    other.locator("#do-claim").click()
    assert "会说申请人语言" in other.locator("#err-claim").inner_text()
    assert fetch(centre, request["id"])["status"] == "submitted"
    other.context.close()

    page = signed_in(browser, centre, "zhuoma")
    page.goto(f"{centre['root']}/console/requests/{request['id']}")
    assert page.title() == "སྒྲོལ་མ · 社保 · 服务中心工作台"
    assert page.locator("h1 .name").get_attribute("lang") == "bo"
    page.locator("#do-claim").click()
    assert "已认领" in page.locator(".ok").inner_text()
    page.get_by_label("社保卡").check()
    page.get_by_label("参保证明").check()
    page.screenshot(path=OUTPUT / "detail-1366x768.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=OUTPUT / "detail-390x844.png", full_page=False)
    page.set_viewport_size(DESKTOP)
    page.locator("#do-materials").click()
    assert page.locator("#time-left").inner_text() == "计时暂停（待补材料）"
    assert fetch(centre, request["id"])["materials_missing"] == ["社保卡", "参保证明"]
    # one notice only: the form is gone once it was sent
    assert page.locator("#do-materials").count() == 0
    page.locator("#do-supplement").click()
    assert re.search(r"还剩 \d+ 个工作日", page.locator("#time-left").inner_text())
    page.get_by_label("办理结果").fill("已在成都代办社保转移，回执已交申请人")
    page.locator("#do-complete").click()
    assert page.locator(".request-head .status").inner_text() == "已办结"
    assert ledger_steps(page) == ["登记", "认领受理", "一次性告知缺件", "材料补齐", "办结"]
    actors = page.locator("table.ledger tbody tr td:nth-child(3)").all_inner_texts()
    assert actors[1:] == ["泽仁卓玛"] * 4
    assert "社保卡、参保证明" in page.locator("table.ledger").inner_text()
    notices = page.locator(".notices").inner_text()
    assert "一次性告知" in notices and "办结通知" in notices
    assert fetch(centre, request["id"])["status"] == "completed"
    page.context.close()


def test_a_lead_reassigns_and_extends_from_the_page(browser, centre):
    request = submit(centre, "扎西顿珠", language="bo")
    claimed = api_as(centre, "zhuoma").post(f"{centre['base']}/requests/{request['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    before = claimed.json()["deadline"]
    page = signed_in(browser, centre, "tashi")
    page.goto(f"{centre['root']}/console/requests/{request['id']}")
    page.get_by_label("转交给").select_option(centre["staff"]["tashi"]["key_id"])
    page.locator("#assign-reason").fill("卓玛休假")
    page.locator("#do-assign").click()
    assert "已转交" in page.locator(".ok").inner_text()
    page.locator("#extra").fill("5")
    page.locator("#extend-reason").fill("需向县社保局调取档案")
    page.locator("#do-extend").click()
    assert "已延期" in page.locator(".ok").inner_text()
    assert ledger_steps(page)[-2:] == ["转交", "延期"]
    after = fetch(centre, request["id"])
    assert after["assignee"] == centre["staff"]["tashi"]["key_id"]
    assert after["first_owner"] == centre["staff"]["zhuoma"]["key_id"]
    assert after["extended_days"] == 5 and after["deadline"] > before
    assert "延长 5 个" in page.locator(".facts").inner_text()
    # a second extension is refused in plain Chinese and changes nothing
    page.locator("#extra").fill("2")
    page.locator("#extend-reason").fill("再延")
    page.locator("#do-extend").click()
    assert "只能延长一次" in page.locator("#err-extend").inner_text()
    assert fetch(centre, request["id"])["extended_days"] == 5
    page.context.close()


def test_an_overdue_request_is_marked(browser, centre):
    request = submit(centre, "超期的申请人", category="policy_consultation")
    today = today_in_china()
    engine = create_engine(centre["env"]["SERVICES_DESK_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE requests SET clock_started_on = :s, deadline = :d, "
                          "warn_on = :w WHERE id = :i"),
                     {"s": today - timedelta(days=10), "d": today - timedelta(days=3),
                      "w": today - timedelta(days=5), "i": request["id"]})
    engine.dispose()
    page = signed_in(browser, centre, "wangli")
    page.get_by_role("link", name=re.compile("即将超时")).click()
    line = row(page, request["id"])
    assert line.locator(".left").inner_text() == "超时 3 天"
    assert "overdue" in line.get_attribute("class")
    assert line.locator(".left").evaluate("e => getComputedStyle(e).backgroundColor") \
        == "rgb(179, 38, 30)"
    page.context.close()


def test_a_request_submitted_through_the_api_appears_without_a_reload(browser, centre):
    page = signed_in(browser, centre, "wangli")
    page.evaluate("window.__notReloaded = true")
    started = time.monotonic()
    request = submit(centre, "刚从接口来的", category="job_help")
    row(page, request["id"]).wait_for(state="visible", timeout=10_000)
    assert time.monotonic() - started < 10
    assert page.evaluate("window.__notReloaded") is True
    # a claim from the queue updates its row in place
    row(page, request["id"]).get_by_role("button", name=re.compile("认领")).click()
    wait_for(lambda: fetch(centre, request["id"])["status"] == "in_progress", timeout=10)
    page.get_by_role("link", name=re.compile("我的")).click()
    assert row(page, request["id"]).locator("td[data-label='首问 / 经办']").inner_text() == "王丽"
    page.context.close()


def test_paging_reaches_the_newest_of_150_requests(browser, centre):
    created = [submit(centre, f"翻页申请人{n:03d}", category="other") for n in range(1, 151)]
    page = signed_in(browser, centre, "wangli")
    page.get_by_label("类别", exact=True).select_option("other")
    page.get_by_role("button", name="筛选").click()
    assert "共 150 件" in page.locator(".summary").inner_text()
    page.get_by_role("link", name="末页").click()
    assert row(page, created[-1]["id"]).is_visible()
    assert "翻页申请人150" in page.locator("table.queue").inner_text()
    # newest first reaches it on the first page too
    page.get_by_label("排序", exact=True).select_option("newest")
    page.get_by_role("button", name="筛选").click()
    assert page.locator("table.queue tbody tr").first.get_attribute("id") == \
        f"row-{created[-1]['id']}"
    # search by the phone's tail and by the request number
    page.get_by_label("搜索", exact=True).fill(created[41]["id"][:8])
    page.get_by_label("搜索", exact=True).press("Enter")
    assert page.locator("table.queue tbody tr").count() == 1
    page.context.close()


def test_the_statistics_page_renders_its_charts_and_the_register_downloads(browser, centre):
    page = signed_in(browser, centre, "tashi")
    page.get_by_role("link", name="统计").click()
    assert page.title().startswith("统计 ")
    images = page.locator(".charts img")
    assert images.count() == 5
    # every chart loaded as an image (wait_for_function would need eval, which the CSP forbids)
    wait_for(lambda: images.evaluate_all(
        "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"), timeout=15)
    svg = page.request.get(centre["root"] + "/console/stats/monthly.svg")
    assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text() and "受理" in svg.text() and "http://kozea" not in svg.text()
    page.screenshot(path=OUTPUT / "stats-1366x768.png", full_page=True)
    with page.expect_download() as download:
        page.locator("#register-csv").click()
    content = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    [ours] = [r for r in rows if r["centre_org_id"] == centre["centre"]]
    assert int(ours["received"]) >= 2 and ours["month"] == today_in_china().strftime("%Y-%m")
    page.context.close()


def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(browser, centre):
    request = submit(centre, "不该被认领", category="job_help")
    page = signed_in(browser, centre, "wangli")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.content()).group(1)
    url = f"{centre['root']}/console/requests/{request['id']}/claim"
    same_origin = {"Origin": centre["root"]}
    without_token = requests.post(url, cookies=cookies, headers=same_origin, data={},
                                  allow_redirects=False, timeout=10)
    assert without_token.status_code == 403
    cross_site = requests.post(url, cookies=cookies, data={"csrf_token": token},
                               headers={"Origin": "http://evil.example"},
                               allow_redirects=False, timeout=10)
    assert cross_site.status_code == 403
    assert fetch(centre, request["id"])["status"] == "submitted"
    # a sign-in from another site's page (login CSRF) is refused too
    login = requests.post(f"{centre['root']}/console/login", allow_redirects=False, timeout=10,
                          data={"username": "wangli", "password": PASSWORD},
                          headers={"Origin": "http://evil.example"})
    assert login.status_code == 403 and "ld_console=" not in login.headers.get("Set-Cookie", "")
    # the same request with both is what the page does: accepted
    accepted = requests.post(url, cookies=cookies, headers=same_origin,
                             data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert accepted.status_code == 303
    assert fetch(centre, request["id"])["status"] == "in_progress"
    # the session cookie is HttpOnly and SameSite=Strict
    [session] = [c for c in page.context.cookies() if c["name"] == "ld_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    page.context.close()


def test_a_service_day_is_scheduled_and_a_request_booked_into_it(browser, centre):
    page = signed_in(browser, centre, "zhuoma")
    page.get_by_role("link", name="服务日").click()
    assert page.title() == "服务日 · 服务中心工作台"
    day = (today_in_china() + timedelta(days=7)).isoformat()
    page.locator("#day").fill(day)
    page.locator("#site").fill("郫都区务工人员集中点")
    page.get_by_role("button", name="安排").click()
    assert f"{day} 郫都区务工人员集中点" in page.locator(".days").inner_text()
    page.get_by_label("申请人姓名（任何文字）").fill("ཚེ་རིང་")
    page.get_by_label("申请人语言").select_option("bo")
    page.get_by_label("事项说明").fill("服务日现场办理养老认证")
    page.locator("#new-category").select_option("pension")
    page.get_by_label("预约服务日（可选）").select_option(label=f"{day} 郫都区务工人员集中点")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url(re.compile(r"/console/requests/[0-9a-f-]{36}$"))
    assert "服务日：" + day in page.locator(".facts").inner_text()
    # the clock starts on the service day
    assert page.locator("#time-left").inner_text() == "服务日起计时"
    page.context.close()


def test_console_actions_and_refusals_are_audited(centre):
    engine = create_engine(centre["env"]["GATEWAY_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT route, status, error_code, actor_kind FROM "
                                 "audit_records WHERE route LIKE '/console/%'")).all()
    engine.dispose()
    seen = {(r.route, r.status, r.error_code) for r in rows}
    assert ("/console/login", 303, None) in seen
    assert ("/console/requests/claim", 303, None) in seen
    assert ("/console/requests/claim", 403, "language_mismatch") in seen
    assert ("/console/requests/claim", 403, "csrf_failed") in seen
    assert ("/console/login", 403, "csrf_failed") in seen
    assert ("/console/requests/extend", 409, "invalid_transition") in seen
    assert {r.actor_kind for r in rows if r.status == 303} == {"user"}
