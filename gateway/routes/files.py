"""Exports answered as file downloads: the services write them with the shared export writer
(services/plumbing/exports.py) and send them base64 over RPC; the client gets the bytes with
their Content-Type and a Content-Disposition naming the file."""
import base64

from werkzeug.wrappers import Response

from services.plumbing.exports import CONTENT_TYPES, CSV, XLSX

CSV_TYPE, XLSX_TYPE = CONTENT_TYPES[CSV], CONTENT_TYPES[XLSX]


def download(exported: dict) -> Response:
    return Response(base64.b64decode(exported["content_base64"]), status=200,
                    content_type=exported["content_type"], headers={
                        "Content-Disposition": f'attachment; filename="{exported["filename"]}"'})
