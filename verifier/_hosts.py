"""Which hosts are this machine: the one loopback test that the fetcher, the badge checks and the CLI share.

No httpx here (import-linter keeps it so): the light verifier and `aigov verify` offline use it too.
"""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """True for a loopback IP literal (127.0.0.0/8, ::1 bare or bracketed `[::1]`) or the name `localhost`.

    Never a prefix match: `127.evil.example` and `localhost.evil.example` are names anyone can point anywhere.
    An IPv4 address wrapped in IPv6 (`::ffff:127.0.0.1`) is not loopback here on any Python version (3.13
    changed `is_loopback` for it); the fetcher refuses such addresses outright.
    """
    name = host.lower()
    bracketed = len(name) > 2 and name[0] == "[" and name[-1] == "]"
    if bracketed:
        name = name[1:-1]
    elif name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return not bracketed and address.is_loopback  # brackets hold IPv6 only (RFC 3986 §3.2.2)
    return address.ipv4_mapped is None and address.is_loopback
