"""A real HTTP endpoint on loopback for the webhook tests (unit and integration): answers with
the statuses queued in `answers` (then 200), each answer carrying `answer_body`, and keeps
every request it got."""
import json

import eventlet
import eventlet.wsgi


class Receiver:
    def __init__(self, port: int = 0, answers=(), answer_body: bytes = b"ok"):
        self.port, self.answers, self.answer_body, self.got = port, list(answers), answer_body, []
        self._server = self._listener = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        self._listener = eventlet.listen(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        self._server = eventlet.spawn(eventlet.wsgi.server, self._listener, self.app,
                                      log_output=False)
        return self

    def stop(self):
        if self._server:
            self._server.kill()
            self._listener.close()

    def app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        self.got.append({"body": body, "signature": environ.get("HTTP_X_LIUDONG_SIGNATURE", ""),
                         "event_type": environ.get("HTTP_X_LIUDONG_EVENT_TYPE"),
                         "delivery_id": environ.get("HTTP_X_LIUDONG_DELIVERY_ID")})
        status = self.answers.pop(0) if self.answers else 200
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [self.answer_body]

    def events(self):
        return [json.loads(r["body"]) for r in self.got]
