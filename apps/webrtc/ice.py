"""Keep WebRTC media on loopback when the server is local.

aioice gathers host candidates from every interface except loopback (it skips
127.0.0.1 by design), so a page on http://localhost would send its media over the
machine's LAN address, and nothing connects inside a network namespace with only
``lo``. aioice has no option for this; when the server listens on loopback, its
address lookup is replaced by one that answers with the loopback addresses, so
media stays where the signalling is. Chromium needs
``--allow-loopback-in-peer-connection`` to offer loopback candidates too.
"""

from __future__ import annotations

import aioice.ice


def loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """The host addresses ICE may use: loopback only."""
    return (["127.0.0.1"] if use_ipv4 else []) + (["::1"] if use_ipv6 else [])


def use_loopback_candidates() -> None:
    """From now on, this process's ICE agents gather loopback candidates only."""
    aioice.ice.get_host_addresses = loopback_addresses
