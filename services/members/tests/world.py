"""A small two-sided world for the members unit tests (worker_factory on SQLite)."""
from sqlalchemy import select

from services.members.id_numbers import check_char
from services.members.models import PLUMBING
from services.plumbing.envelope import ReceivedEvent

ADMIN = {"key_id": "admin", "role": "admin", "org_id": None}


def id_number(serial: int, birth: str = "19800101", region: str = "110105") -> str:
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + check_char(first17)


def office(org, role="office"):
    return {"key_id": "k-" + org["id"][:8], "role": role, "org_id": org["id"]}


def build(service):
    def org(kind, name, parent=None, **extra):
        body = {"kind": kind, "name": name, "parent_id": parent["id"] if parent else None}
        body.update(extra)
        return service.create_org_unit(ADMIN, body)

    w = {}
    w["county"] = org("county", "淮阳区", city="周口", contact="王主任 0394-1234567")
    w["township"] = org("township", "城关镇", w["county"])
    w["village"] = org("village_branch", "东村党支部", w["township"])
    w["other_county"] = org("county", "皮州市")
    w["other_township"] = org("township", "运河街道", w["other_county"])
    w["committee"] = org("joint_committee", "驻京流动党委", city="北京")
    w["second"] = org("second_level_committee", "丰台二级流动党委", w["committee"], city="北京丰台")
    w["branch"] = org("branch", "丰台支部", w["second"], city="北京丰台")
    w["branch2"] = org("branch", "大兴支部", w["second"], city="北京大兴")
    w["other_committee"] = org("comprehensive_committee", "常州综合党委", city="常州")
    w["other_branch"] = org("branch", "常州一支部", w["other_committee"], city="常州")
    return w


def register(service, w, serial=1, caller=None, **fields):
    body = {"name": f"党员{serial}", "id_number": id_number(serial), "phone": "13800001234",
            "home_org_id": w["village"]["id"], "host_org_id": w["branch"]["id"]}
    body.update(fields)
    return service.register_member(caller or office(w["county"]), body)


def outbox(uow, event_type=None) -> list[dict]:
    """The envelopes the service wrote to its outbox, oldest first (only one type's if given)."""
    with uow.read() as session:
        rows = session.execute(select(PLUMBING.outbox).order_by(PLUMBING.outbox.c.seq))
        return [row.envelope for row in rows if event_type in (None, row.event_type)]


def received(uow, event_type, entrypoint, **data):
    """The outbox's event of that type whose data has these values, as `entrypoint` (an event
    handler of the service) receives it."""
    for envelope in outbox(uow, event_type):
        if all(envelope["data"][name] == value for name, value in data.items()):
            return ReceivedEvent.from_envelope(envelope, f"members.{entrypoint}")
    raise AssertionError(f"no {event_type} event with {data} in the outbox")


def crash_import_at_second_batch(monkeypatch) -> None:
    """The worker dies while writing an import's second batch (bulk.import_rows raises)."""
    from services.members import bulk
    real_import_rows, calls = bulk.import_rows, []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real_import_rows(*args, **kwargs)

    monkeypatch.setattr(bulk, "import_rows", crash_on_second_batch)
