"""Publisher confirms as the relay counts them: tags from 1, acks one by one or `multiple`,
in any order, and nacks."""
from services.plumbing.outbox import Confirms


def sent(confirms: Confirms, count: int) -> None:
    for _ in range(count):
        confirms.sent()


def test_single_acks_in_any_order_settle_a_run_only_without_gaps():
    confirms = Confirms()
    sent(confirms, 4)
    confirms.settle(2, multiple=False)
    assert not confirms.settled_through(1) and confirms.confirmed_run(1) == 0
    confirms.settle(1, multiple=False)
    assert confirms.settled_through(2) and confirms.confirmed_run(1) == 2
    confirms.settle(4, multiple=False)
    assert not confirms.settled_through(4) and confirms.confirmed_run(1) == 2
    confirms.settle(3, multiple=False)
    assert confirms.settled_through(4) and confirms.confirmed_run(3) == 2


def test_a_multiple_ack_settles_everything_up_to_its_tag():
    confirms = Confirms()
    sent(confirms, 10)
    confirms.settle(7, multiple=True)
    assert confirms.settled_through(7) and not confirms.settled_through(8)
    confirms.settle(10, multiple=True)
    assert confirms.settled_through(10) and confirms.nacked_from(1) is None


def test_a_nack_is_found_from_where_a_batch_began():
    confirms = Confirms()
    sent(confirms, 6)
    confirms.settle(2, multiple=True)
    confirms.settle(4, multiple=False, nacked=True)
    confirms.settle(6, multiple=True)
    assert confirms.settled_through(6)
    assert confirms.nacked_from(1) == 4 and confirms.nacked_from(5) is None
