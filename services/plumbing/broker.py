"""Connections of a process's own to RabbitMQ (the outbox relay's publisher, RPC replies, the
gateway's RPC callers), outside nameko's pools: opened and let go of the same way."""
from kombu import Connection


def open_channel(amqp_uri: str, ssl=None, login_method=None):
    """A broker connection of the caller's own and a channel on it: (connection, channel)."""
    connection = Connection(amqp_uri, ssl=ssl, login_method=login_method, connect_timeout=5)
    connection.ensure_connection(max_retries=1)
    return connection, connection.channel()


def release_quietly(connection) -> None:
    """Let go of a connection that may be broken already."""
    if connection is not None:
        try:
            connection.release()
        except Exception:
            pass
