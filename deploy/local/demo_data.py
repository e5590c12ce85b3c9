"""Demo data built from the seed reports (../shared/seeds), loaded through the HTTP API.

淮阳区 branch in Beijing Fengtai; Zhangjiakou's Beijing committee with second-level committees;
Pizhou's comprehensive committee in Changzhou; 市南区's Beijing committee with east, central and
west area branches; Heishui county's service centre in Chengdu. Names of people are made up.
"""
import secrets
import time
from datetime import date, timedelta
from decimal import Decimal

import requests

from services.members.id_numbers import check_char


def id_number(region: str, birth: str, serial: int) -> str:
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + check_char(first17)


class Api:
    def __init__(self, base: str, key: str):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def post(self, path: str, body: dict, **headers) -> dict:
        return self.send("POST", path, body, **headers)

    def put(self, path: str, body: dict, **headers) -> dict:
        return self.send("PUT", path, body, **headers)

    def send(self, method: str, path: str, body: dict, **headers) -> dict:
        for attempt in range(40):
            response = self.session.request(method, self.base + path, json=body, headers=headers,
                                            timeout=15)
            # The desk and donations learn org units and members from events: give the
            # projection a moment.
            if response.status_code == 400 and attempt < 39 and (
                    "scope" in response.text or "no such org unit" in response.text):
                time.sleep(0.25)
                continue
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path} -> {response.status_code} {response.text}")
            return response.json()
        raise RuntimeError(f"{method} {path} kept failing")


def load(base: str, admin_key: str, create_key) -> dict:
    admin = Api(base, admin_key)

    def org(kind, name, parent=None, city=None):
        return admin.post("/org-units", {"kind": kind, "name": name, "parent_id": parent,
                                         "city": city})["id"]

    # Home side
    huaiyang = org("county", "周口市淮阳区", city="周口市")
    zhangjiakou = org("county", "张家口市", city="张家口市")
    zhangbei = org("township", "张北县", zhangjiakou, "张家口市")
    pizhou = org("county", "邳州市", city="徐州市")
    shinan = org("county", "青岛市市南区", city="青岛市")
    heishui = org("county", "黑水县", city="阿坝州")
    musu = org("township", "木苏镇", heishui, "阿坝州")
    rishiduo = org("village_branch", "日十多村党支部", musu, "阿坝州")

    # Host side
    huaiyang_bj = org("branch", "淮阳区在京务工创业人员党支部", city="北京市丰台区")
    zjk_bj = org("joint_committee", "张家口市驻京流动党委", city="北京市昌平区")
    zjk_zhangbei = org("second_level_committee", "张北县驻京流动党委", zjk_bj, "北京市")
    zjk_branch = org("branch", "张北县驻京第一党支部", zjk_zhangbei, "北京市")
    org("second_level_committee", "蔚县驻京流动党委", zjk_bj, "北京市")
    pizhou_cz = org("comprehensive_committee", "邳州市驻常州流动党员综合党委", city="常州市")
    pizhou_branches = [org("branch", f"邳州驻常州第{n}党支部", pizhou_cz, "常州市")
                       for n in ("一", "二", "三")]
    shinan_bj = org("joint_committee", "青岛市市南区在京流动党员党委", city="北京市")
    shinan_areas = [org("area_branch", f"{area}片区党支部", shinan_bj, "北京市")
                    for area in ("东部", "中部", "西部")]
    heishui_cd = org("service_centre", "黑水县驻成都党群服务中心", city="成都市")

    keys = {
        "office 淮阳区委组织部": create_key("office", huaiyang, "淮阳区委组织部 system"),
        "office 淮阳在京支部": create_key("office", huaiyang_bj, "淮阳区在京支部"),
        "office 张家口市驻京流动党委": create_key("office", zjk_bj, "张家口市驻京流动党委"),
        "office 邳州市委组织部": create_key("office", pizhou, "邳州市委组织部 system"),
        "office 市南区在京流动党员党委": create_key("office", shinan_bj, "市南区在京流动党员党委"),
        "office 黑水县委组织部": create_key("office", heishui, "黑水县委组织部 system"),
        "desk_staff 黑水驻成都服务中心": create_key("desk_staff", heishui_cd, "黑水中心 窗口"),
        "ops (platform)": create_key("ops", None, "ops on call"),
    }

    people = [
        (huaiyang, huaiyang_bj, "411626", "葛杰"), (huaiyang, huaiyang_bj, "411626", "李红梅"),
        (huaiyang, huaiyang_bj, "411626", "王建国"),
        (zhangbei, zjk_branch, "130722", "梁登城"), (zhangbei, zjk_branch, "130722", "赵秀英"),
        (pizhou, pizhou_branches[0], "320382", "孙立伟"), (pizhou, pizhou_branches[1], "320382", "陈静"),
        (pizhou, pizhou_branches[2], "320382", "周海"),
        (shinan, shinan_areas[0], "370202", "陈献东"), (shinan, shinan_areas[1], "370202", "梁帅"),
        (shinan, shinan_areas[2], "370202", "刘洋"),
        (rishiduo, heishui_cd, "513228", "泽仁卓玛"), (rishiduo, heishui_cd, "513228", "西木拉"),
    ]
    members = []
    for serial, (home, host, region, name) in enumerate(people, start=1):
        members.append(admin.post("/members", {
            "name": name, "id_number": id_number(region, f"19{60 + serial % 30:02d}0{1 + serial % 9}15", serial),
            "phone": f"139{serial:08d}", "home_org_id": home, "host_org_id": host}))

    # The Heishui centre's desk staff: each person signs in to the console (/console) with a
    # login of their own and is registered as desk staff with the languages they speak, so
    # that requests in Tibetan go to Tibetan speakers and the lead can hand work on.
    for username, name, languages, lead, who in (
            ("zhuoma", "泽仁卓玛", ["bo"], False, "desk, Tibetan and Chinese"),
            ("wangli", "王丽", [], False, "desk, Chinese only"),
            ("tashi", "扎西", ["bo"], True, "lead of the centre, Tibetan and Chinese")):
        password = secrets.token_urlsafe(9)
        user = admin.post("/staff-users", {"username": username, "display_name": name,
                                           "org_id": heishui_cd, "password": password})
        # A console login acts as u_<id>: that is the key id the desk knows its staff by.
        admin.put(f"/desk/staff/u_{user['id']}", {"centre_org_id": heishui_cd, "name": name,
                                                  "languages": languages, "is_lead": lead})
        keys[f"console login {username} ({who})"] = password

    desk = Api(base, keys["desk_staff 黑水驻成都服务中心"])
    desk.post("/requests", {"requester_name": "西木拉", "requester_phone": "13900000013",
                            "category": "social_insurance", "language": "bo",
                            "description": "在都江堰代办家乡社保缴费"})
    desk.post("/requests", {"requester_member_id": members[11]["id"], "category": "medical_insurance",
                            "description": "异地就医备案"})

    branch = Api(base, keys["office 淮阳在京支部"])
    today = date.today()
    campaign = branch.post("/campaigns", {
        "title": "抗击疫情 爱心捐款", "purpose": "pandemic_relief", "goal": "500000.00",
        "opens_on": (today - timedelta(days=10)).isoformat(),
        "closes_on": (today + timedelta(days=20)).isoformat()})
    # The branch raised 490,982.52 yuan in cash (seed 000); a few gifts that add up to it exactly.
    gifts = ["200000.00", "150000.00", "88888.88", "50000.00", "2093.64"]
    assert sum(Decimal(g) for g in gifts) == Decimal("490982.52")
    for index, amount in enumerate(gifts):
        body = {"amount": amount}
        if index < 3:
            body["member_id"] = members[index]["id"]
        else:
            body["donor_name"] = "在京淮阳老乡"
        branch.post(f"/campaigns/{campaign['id']}/donations", body,
                    **{"Idempotency-Key": f"demo-gift-{index}"})
    # Flood relief closed last month; one member insisted on giving 3,000 yuan afterwards
    # (seed 000): accepted and marked late, never refused.
    flood = branch.post("/campaigns", {
        "title": "防汛救灾", "purpose": "flood_relief", "goal": "300000.00",
        "opens_on": (today - timedelta(days=60)).isoformat(),
        "closes_on": (today - timedelta(days=30)).isoformat()})
    branch.post(f"/campaigns/{flood['id']}/donations",
                {"amount": "3000.00", "member_id": members[1]["id"]},
                **{"Idempotency-Key": "demo-late-gift"})
    return keys
