"""The HTTP gateway: the API county offices' systems and staff call, under /api/v1."""
