"""The container survives infrastructure errors in the threads that handle one message, and
still dies (as nameko intends) on a bug or when a loop of its own ends."""
import eventlet
import pytest
from amqp.exceptions import RecoverableConnectionError
from nameko.rpc import rpc
from sqlalchemy.exc import OperationalError

from services.plumbing.container import ResilientServiceContainer


class Probe:
    name = "probe"

    @rpc
    def ping(self):
        return "pong"


class FakeWorker:
    class entrypoint:
        method_name = "ping"


def _container():
    return ResilientServiceContainer(Probe, {"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1//"})


def _thread_raising(exc):
    def boom():
        raise exc
    gt = eventlet.spawn(boom)
    eventlet.sleep(0)
    return gt


@pytest.mark.parametrize("error", [
    ConnectionResetError(104, "Connection reset by peer"),   # basic_ack, RPC reply
    BrokenPipeError(32, "Broken pipe"),
    RecoverableConnectionError("connection already closed"),  # reject on a closed channel
    OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
])
def test_an_infrastructure_error_in_a_message_thread_leaves_the_container_running(error):
    container = _container()
    container._handle_worker_thread_exited(_thread_raising(error), FakeWorker())
    container._handle_managed_thread_exited(_thread_raising(error),
                                            "RpcConsumer.handle_message[rpc-probe.ping]")
    assert not container._died.ready()
    assert container.survived_errors == 2


def test_a_bug_still_kills_the_container():
    container = _container()
    container._handle_worker_thread_exited(_thread_raising(ValueError("a bug")), FakeWorker())
    assert container._died.ready()


def test_a_loop_that_ends_with_an_error_kills_the_container():
    """A consumer loop or the outbox relay that stops would leave a process that looks alive
    and does nothing: better dead, so that the supervisor (or Kubernetes) starts it again."""
    container = _container()
    container._handle_managed_thread_exited(_thread_raising(ConnectionResetError()),
                                            "outbox_relay")
    assert container._died.ready()


def test_a_consumer_is_not_consuming_until_connected():
    container = _container()
    assert container.queue_consumers(), "the RPC entrypoint brings a queue consumer"
    assert not container.consuming()
    consumer = container.queue_consumers()[0]
    consumer.on_consume_ready(None, None, [])
    assert container.consuming()
    consumer.on_connection_error(ConnectionRefusedError(), 2)
    assert not container.consuming()
