"""The caller on the wire: who acted (a key or a person) travels explicitly, and the `key_id`
services record stays what it always was."""
import pytest

from services.plumbing.caller import KEY, USER, Caller
from services.plumbing.errors import ValidationFailed


def test_a_person_and_a_key_cross_rpc_as_themselves():
    person = Caller.of_user("7f3a", "desk_staff", "centre-1")
    key = Caller.of_key("0123456789abcdef", "office", "county-1")
    assert (person.actor_kind, person.actor_id, person.key_id) == (USER, "7f3a", "u_7f3a")
    assert (key.actor_kind, key.actor_id, key.key_id) == (KEY, "0123456789abcdef", "0123456789abcdef")
    for caller in (person, key):
        assert Caller.from_wire(caller.to_wire()) == caller


def test_a_caller_without_its_kind_is_known_by_its_recorded_key_id():
    """An older gateway's caller, or one a service rebuilds from its record: the `key_id` is
    kept as it is, and nothing guesses who it was from its form."""
    caller = Caller.from_wire({"key_id": "u_7f3a", "role": "desk_staff", "org_id": "centre-1"})
    assert caller == Caller.recorded("u_7f3a", "desk_staff", "centre-1")
    assert (caller.actor_kind, caller.key_id) == (None, "u_7f3a")


def test_a_malformed_caller_is_refused():
    with pytest.raises(ValidationFailed):
        Caller.from_wire({"key_id": "k", "role": "root"})
