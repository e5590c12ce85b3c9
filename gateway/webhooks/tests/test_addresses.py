"""Where a webhook may point: every non-public kind of address is refused, also hidden inside
IPv6 forms or behind a host name; the allow-list lets chosen networks through; URLs with other
schemes or credentials are refused with a reason that says so. Nothing here opens a socket."""
import ipaddress

import pytest

from gateway.webhooks.addresses import AddressPolicy, RefusedAddress, kind_of, parse_networks, split_url


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.10.0.1", "loopback"), ("::1", "loopback"),
    ("10.20.30.40", "private"), ("192.168.1.10", "private"), ("172.16.0.5", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "shared (CGNAT)"), ("100.127.255.254", "shared (CGNAT)"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("fc00::1", "private"), ("240.0.0.1", "private"), ("198.18.0.1", "private"),
    ("::ffff:10.0.0.1", "private"),           # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("2002:a00:1::", "private"),              # 6to4 around 10.0.0.1
    ("8.8.8.8", None), ("1.1.1.1", None), ("2001:4860:4860::8888", None),
])
def test_every_non_public_kind_is_named(address, kind):
    assert kind_of(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.org/hook", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://10.0.0.1:70/", "only http and https"),
    ("http://user:secret@example.org/hook", "credentials in the URL"),
    ("https://token@example.org/hook", "credentials in the URL"),
    ("http:///hook", "no host"),
    ("http://example.org:99999/", "not a valid URL"),
    ("http://example.org/ho ok", "spaces or control characters"),
    ("http://example.org/\r\nX-Injected: 1", "spaces or control characters"),
])
def test_urls_of_the_wrong_shape_are_refused_with_a_reason(url, reason):
    with pytest.raises(RefusedAddress) as caught:
        split_url(url)
    assert reason in str(caught.value)


@pytest.mark.parametrize("url", ["http://10.20.30.40/hook", "http://192.168.1.10:8080/hook",
                                 "http://172.16.0.5/hook",
                                 "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8080/hook", "http://100.64.1.1/",
                                 "http://0.0.0.0:5672/", "http://[::ffff:127.0.0.1]/"])
def test_literal_internal_addresses_are_refused(url, dns):
    with pytest.raises(RefusedAddress) as caught:
        AddressPolicy().check_url(url)
    assert str(caught.value).startswith("refused: ")
    assert dns.lookups == []          # a literal needs no lookup


def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public(dns):
    dns.names["mixed.example"] = ["93.184.215.14", "10.0.0.7"]
    dns.names["public.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    dns.names["metadata.example"] = ["169.254.169.254"]
    policy = AddressPolicy()
    with pytest.raises(RefusedAddress) as caught:
        policy.check_url("https://mixed.example/hook")
    # says the kind, never the address the name resolved to
    assert str(caught.value) == "refused: the host name resolves to a private address"
    with pytest.raises(RefusedAddress, match="link-local"):
        policy.check_url("http://metadata.example/")
    with pytest.raises(RefusedAddress, match="does not resolve"):
        policy.check_url("https://nowhere.example/hook")
    assert policy.checked_address("public.example", 443) == "93.184.215.14"


def test_the_allow_list_lets_chosen_networks_through_and_nothing_else(dns):
    policy = AddressPolicy(parse_networks("10.20.0.0/16, 127.0.0.1/32,::1/128"))
    dns.names["intranet.county"] = ["10.20.30.40"]
    policy.check_url("http://10.20.30.40/hook")
    policy.check_url("http://intranet.county:8080/hook")
    policy.check_url("http://127.0.0.1:9000/hook")
    policy.check_url("http://[::1]:9000/hook")
    for url in ("http://10.21.0.1/hook", "http://127.0.0.2/hook", "http://192.168.1.10/"):
        with pytest.raises(RefusedAddress):
            policy.check_url(url)
    assert parse_networks(["192.168.0.0/24"]) == (ipaddress.ip_network("192.168.0.0/24"),)
    assert parse_networks("") == parse_networks(None) == ()
