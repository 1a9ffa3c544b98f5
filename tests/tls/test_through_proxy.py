"""Behind a proxy the robot has no direct route: the certificate check goes through the proxy's CONNECT tunnel,
as the browser's and the HTTP clients' requests do, and still says what is wrong with a bad certificate."""

from __future__ import annotations

from pathlib import Path

from bot.config import ProxySettings
from bot.net import resolve_proxy
from bot.tls import check_server
from tests.net.proxy_server import PASSWORD, USER, tinyproxy
from tests.sandbox_proc import PORTAL_NAMES, Sandbox


def test_the_certificate_check_goes_through_the_proxy(mixed_box: Sandbox, tmp_path: Path) -> None:
    with tinyproxy(tmp_path / "proxy") as proxy:
        resolved = resolve_proxy(ProxySettings(url=proxy.url, username=USER), {"CASEBOT_PROXY_PASSWORD": PASSWORD})
        good = check_server(mixed_box.url("casesystem"), mixed_box.tls, proxy=resolved)
        untrusted = check_server(mixed_box.url("csn"), mixed_box.tls, proxy=resolved)
        carried = {port: proxy.carried_to(port) for port in (mixed_box.port_base,
                                                            mixed_box.port_base + PORTAL_NAMES.index("csn"))}
    assert good.trusted and untrusted.problem == "untrusted"
    # Both tunnelled; the untrusted one twice (the refused handshake, then the one that reads its certificate).
    assert carried == {mixed_box.port_base: ["CONNECT"],
                       mixed_box.port_base + PORTAL_NAMES.index("csn"): ["CONNECT", "CONNECT"]}
