"""What the gateway answers besides the API's routes, through the same dispatch: health and the
OpenAPI document with its browsable page (no key; documented by hand in gateway/openapi.py, as
their replies are not the API's usual ones), and the staff console, which signs people in with
its own session cookie, limits them and audits its actions itself (gateway/console)."""
from .table import Route


def health(ctx):
    return ctx.gateway.health()


def openapi_document(ctx):
    return ctx.gateway.openapi_document()


def docs(ctx, asset=None):
    """The page and its files (Swagger UI, served from here)."""
    from .. import pages  # Jinja2 and the templates load with the first page, not with the table
    return pages.docs(ctx.gateway, ctx.request, ctx.trace_id)


def console(ctx, page=None):
    """Every /console URL: the console routes it on to its own pages and actions."""
    from .. import pages
    return pages.console(ctx.gateway, ctx.request, ctx.trace_id)


OPERATIONS = "operations"
ROUTES = (
    Route("health", "GET", "/api/v1/health", health,
          "Broker and service health (no key needed)", OPERATIONS, public=True, audited=False),
    Route("openapi", "GET", "/api/v1/openapi.json", openapi_document, "This document",
          OPERATIONS, public=True, audited=False),
    Route("docs", "GET", "/api/v1/docs", docs,
          "This document as a browsable page (no external resources)", OPERATIONS, public=True,
          audited=False, page=True),
    Route("docs_asset", "GET", "/api/v1/docs/<asset>", docs, "The page's scripts and styles",
          OPERATIONS, public=True, audited=False, page=True),
) + tuple(
    Route(f"console_{method.lower()}{suffix}", method, path, console, "The staff console",
          "console", audited=False, page=True, own_sign_in=True)
    for path, suffix in (("/console", ""), ("/console/<path:page>", "_page"))
    for method in ("GET", "POST")
)
