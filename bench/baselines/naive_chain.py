"""The naive baseline of issue 13: the simplest nameko implementation of the platform's chain,
`@http` -> RPC -> one INSERT -> EventDispatcher -> event_handler INSERT (and, for reads,
`@http` -> RPC -> one SELECT). No auth, no validation, no audit, no outbox: what the platform
is measured against (bench/chain.py).

    NAIVE_DATABASE_URL=postgresql://... AMQP_URI=amqp://... NAIVE_PORT=8099 \
        python -m bench.baselines.naive_chain http|store|projection
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (nameko needs it first; it also greens psycopg2)

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

from nameko.events import EventDispatcher, event_handler  # noqa: E402
from nameko.rpc import RpcProxy, rpc  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

ENGINE = create_engine(os.environ.get("NAIVE_DATABASE_URL", "sqlite://"), pool_size=10,
                       max_overflow=20)
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id varchar(36) PRIMARY KEY, kind varchar(20) NOT NULL,
    body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE INDEX IF NOT EXISTS ix_records_kind_created ON records (kind, created_at);
CREATE TABLE IF NOT EXISTS projection (id varchar(36) PRIMARY KEY, kind varchar(20) NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT clock_timestamp());
"""


def reply(status: int, body) -> Response:
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json")


class Http:
    name = "naive_http"
    store = RpcProxy("naive_store")

    @http("POST", "/<kind>")
    def create(self, request, kind):
        return reply(201, self.store.create(kind, json.loads(request.get_data())))

    @http("GET", "/<kind>/<record_id>")
    def get(self, request, kind, record_id):
        found = self.store.get(record_id)
        return reply(200, found) if found else reply(404, {"error": "not found"})

    @http("GET", "/<kind>")
    def list(self, request, kind):
        return reply(200, {"items": self.store.list(kind)})


class Store:
    name = "naive_store"
    dispatch = EventDispatcher()

    @rpc
    def create(self, kind, body):
        record_id = str(uuid.uuid4())
        with ENGINE.begin() as conn:
            conn.execute(text("INSERT INTO records (id, kind, body) VALUES (:id, :kind, :body)"),
                         {"id": record_id, "kind": kind, "body": json.dumps(body)})
        self.dispatch("created", {"id": record_id, "kind": kind})
        return {"id": record_id, **body}

    @rpc
    def get(self, record_id):
        with ENGINE.connect() as conn:
            row = conn.execute(text("SELECT id, body, created_at FROM records WHERE id = :id"),
                               {"id": record_id}).mappings().first()
        return dict(row) if row else None

    @rpc
    def list(self, kind):
        with ENGINE.connect() as conn:
            rows = conn.execute(text("SELECT id, body, created_at FROM records WHERE kind = :kind "
                                     "ORDER BY created_at DESC LIMIT 50"), {"kind": kind})
            return [dict(row) for row in rows.mappings()]


class Projection:
    name = "naive_projection"

    @event_handler("naive_store", "created")
    def on_created(self, payload):
        with ENGINE.begin() as conn:
            conn.execute(text("INSERT INTO projection (id, kind) VALUES (:id, :kind) "
                              "ON CONFLICT DO NOTHING"), payload)


def create_schema() -> None:
    with ENGINE.begin() as conn:
        conn.exec_driver_sql(SCHEMA)


def main(which: str) -> None:
    service = {"http": Http, "store": Store, "projection": Projection}[which]
    runner = ServiceRunner({"AMQP_URI": os.environ["AMQP_URI"],
                            "WEB_SERVER_ADDRESS": f"127.0.0.1:{os.environ.get('NAIVE_PORT', 8099)}"})
    runner.add_service(service)
    runner.start()
    runner.wait()


if __name__ == "__main__":
    main(sys.argv[1])
