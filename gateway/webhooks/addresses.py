"""Where the platform may send a webhook (plain Python, no nameko): no server-side request
forgery. An office key must not make the platform call loopback, private, link-local, CGNAT,
multicast, unspecified or otherwise non-public addresses (cloud metadata at 169.254.169.254, a
database on 10.x, the broker on 127.0.0.1). Checked when an endpoint is registered and again
at every connection, on the addresses the host name resolves to at that moment, and the
connection goes to the address that was checked (a name that resolves differently on the
second lookup, DNS rebinding, gains nothing).

`WEBHOOK_ALLOWED_NETWORKS` (comma-separated CIDRs, e.g. `10.20.0.0/16,127.0.0.1/32`) lets
chosen non-public networks through: a county's on-premise receivers, local runs and tests.
"""
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
CGNAT = ipaddress.ip_network("100.64.0.0/10")   # shared address space: not global, not private


class RefusedAddress(ValueError):
    """The URL or the address it resolves to may not be called; the message is ours and safe
    to show the endpoint's owner (it never names an address a host name resolved to)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to now (tests put a fake resolver here)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def parse_networks(raw) -> tuple:
    """The allow-list from configuration: a comma-separated string or a list of CIDRs."""
    if not raw:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items
                 if item.strip())


def kind_of(address) -> str | None:
    """Why an address is not public ("loopback", "private", ...), or None if it is."""
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return kind_of(embedded)
    for kind, test in (("unspecified", lambda a: a.is_unspecified),
                       ("loopback", lambda a: a.is_loopback),
                       ("link-local", lambda a: a.is_link_local),
                       ("multicast", lambda a: a.is_multicast),
                       ("shared (CGNAT)", lambda a: a.version == 4 and a in CGNAT),
                       ("private", lambda a: a.is_private),
                       ("reserved", lambda a: a.is_reserved),
                       ("non-public", lambda a: not a.is_global)):
        if test(address):
            return kind
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allowed: tuple = field(default=())     # ip_network objects let through anyway

    @classmethod
    def from_config(cls, config) -> "AddressPolicy":
        return cls(parse_networks(config.get("WEBHOOK_ALLOWED_NETWORKS")))

    def refusal(self, address) -> str | None:
        if any(address.version == net.version and address in net for net in self.allowed):
            return None
        return kind_of(address)

    def checked_address(self, host: str, port: int) -> str:
        """The address to connect to for `host`: the first one it resolves to, provided that
        every one of them is allowed (a name with one public and one private address is
        refused, so that no retry or fallback can reach the private one)."""
        literal = _ip_literal(host)
        if literal is not None:
            kind = self.refusal(literal)
            if kind:
                raise RefusedAddress(f"refused: {literal} is {_a(kind)} address")
            return str(literal)
        try:
            found = resolve(host, port)
        except (socket.gaierror, UnicodeError):
            raise RefusedAddress("the host name does not resolve") from None
        if not found:
            raise RefusedAddress("the host name does not resolve")
        for raw in found:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            kind = self.refusal(address)
            if kind:
                raise RefusedAddress(f"refused: the host name resolves to {_a(kind)} address")
        return found[0]

    def check_url(self, url: str) -> None:
        """A URL an endpoint may be registered with (raises RefusedAddress saying why not)."""
        parts = split_url(url)
        self.checked_address(parts.hostname, parts.port or default_port(parts.scheme))


def split_url(url: str):
    """The URL's parts, if it has the shape of a webhook URL at all."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise RefusedAddress("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedAddress("not a valid URL (host or port)") from None
    if parts.scheme.lower() not in SCHEMES:
        raise RefusedAddress("only http and https URLs are accepted")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("credentials in the URL are not accepted: deliveries are signed "
                             "with the endpoint's secret instead")
    if not parts.hostname:
        raise RefusedAddress("the URL has no host")
    if port == 0:
        raise RefusedAddress("not a valid URL (host or port)")
    return parts


def default_port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


def _ip_literal(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
