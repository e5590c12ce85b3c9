"""Jinja2 templates, security headers, and static files with cache headers (the console's own
from gateway/static, Swagger UI's from the swagger-ui-bundle package)."""
import hashlib
import json
import mimetypes
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from . import labels

GATEWAY = Path(__file__).resolve().parents[1]
STATIC = GATEWAY / "static"
BEIJING = ZoneInfo("Asia/Shanghai")
# No inline script anywhere: scripts and styles are files of this gateway (charts are <img>).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# Static files may be cached for a day; the ETag lets a browser revalidate cheaply after that.
STATIC_CACHE = "public, max-age=86400"


def beijing_time(value) -> str:
    """An ISO instant (UTC) as Beijing wall time, to the minute."""
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def beijing_date(value) -> str:
    return str(value or "")


ENV = Environment(loader=FileSystemLoader(str(GATEWAY / "templates")),
                  autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(beijing_time=beijing_time, beijing_date=beijing_date)
ENV.globals.update(labels=labels, STATUS=labels.STATUS, CATEGORY=labels.CATEGORY,
                   STEP=labels.STEP, LANGUAGE=labels.LANGUAGE, CHANNEL=labels.CHANNEL,
                   NOTICE=labels.NOTICE, TASK_STATUS=labels.TASK_STATUS,
                   time_label=labels.time_label)


def render(template: str, **context) -> str:
    return ENV.get_template(template).render(**context)


def html(template: str, status: int = 200, **context) -> Response:
    return Response(render(template, **context), status=status,
                    content_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def json_reply(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@lru_cache(maxsize=64)
def _read(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def _file_response(directory: Path, name: str, request=None):
    if "/" in name or name.startswith(".") or not name:
        return None
    path = directory / name
    if not path.is_file():
        return None
    data, etag = _read(path)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type == "application/javascript":
        content_type += "; charset=utf-8"
    return Response(data, content_type=content_type, headers={
        "Cache-Control": STATIC_CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"})


def asset_response(name: str):
    """A file of gateway/static, or None."""
    return _file_response(STATIC, name)


def docs_asset(name: str):
    """The docs page's own starter script (gateway/static/docs-init.js)."""
    return _file_response(STATIC, name) if name == "docs-init.js" else None


SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                 "favicon-32x32.png", "favicon-16x16.png")


def swagger_asset(name: str):
    if name not in SWAGGER_FILES:
        return None
    import swagger_ui_bundle
    return _file_response(Path(swagger_ui_bundle.swagger_ui_path), name)
