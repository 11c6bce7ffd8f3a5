"""Nginx with one llminfra site: Debian's default site out, TLS in place, tested before reload."""

from __future__ import annotations

from io import StringIO

from pyinfra.api import deploy
from pyinfra.operations import server, systemd
from pyinfra.operations.util import any_changed

from llminfra.model import TlsSettings
from llminfra.operations import paths, private
from llminfra.operations import systemd as kit_systemd
from llminfra.render import CertPaths, RenderedFile

from ._apt import install
from ._tls import acme_issue, site_certificates

DEFAULT_SITE = "/etc/nginx/sites-enabled/default"


@deploy("Nginx")
def nginx_site(site: RenderedFile, tls: TlsSettings, certs: dict[str, CertPaths],
               ips: list[str], packages: tuple[str, ...] = ()) -> None:
    """
    Install Nginx, put ``site`` and its certificates in place, reload only on change.

    + site: the rendered site (under ``/etc/nginx/conf.d``); a secret one is written 0600
    + tls: the site's TLS settings
    + certs: server name -> certificate paths the site expects
    + ips: IP addresses self-signed certificates also name (clients connecting by IP)
    + packages: further apt packages (e.g. ``ca-certificates`` for upstream verification)

    ``nginx -t`` runs before any reload; a bad config fails the host and leaves the running
    Nginx on its previous config.
    """
    install("Install Nginx", ["nginx", "openssl", *packages])
    default = paths.absent(name="Remove Debian's default site", path=DEFAULT_SITE)
    certificates = site_certificates(tls, certs, ips)
    if site.secret:
        config = private.file(name=f"Site {site.path_on_host}", path=site.path_on_host,
                              src=StringIO(site.content))  # fmt: skip
    else:
        config = paths.file(name=f"Site {site.path_on_host}", src=StringIO(site.content),
                            path=site.path_on_host, mode="644")  # fmt: skip
    changed = any_changed(default, config, *certificates)
    server.shell(name="nginx -t", commands=["nginx -t -q"], _if=changed)
    kit_systemd.running(name="Nginx running and enabled", unit="nginx")
    systemd.service(name="Reload Nginx (config changed)", service="nginx", reloaded=True,
                    _if=changed)  # fmt: skip
    acme_issue(tls, list(certs))
