"""SSH tunnel to the gateway's loopback-only admin port, with a pinned host key."""
import contextlib
import logging
import os
import socket

import paramiko
import sshtunnel

from llminfra.commands.net import known_hosts_name
from llminfra.model.sshfiles import KeyFileError, NeedsPassphrase, load_private_key

from .errors import OneAPIError


class TunnelError(OneAPIError):
    """The SSH tunnel could not be opened (unknown/mismatched host key, auth, network)."""


def _host_patterns(host, port):
    return list(dict.fromkeys([known_hosts_name(host, port), host]))


def pinned_host_key(known_hosts, host, port=22):
    """The pinned :class:`paramiko.PKey` for ``host`` from a known_hosts line or file.

    ``known_hosts`` is either one OpenSSH known_hosts line (``host keytype base64``)
    or a path to a known_hosts file. Hashed host names are supported (file form).
    """
    if not known_hosts:
        raise TunnelError(f"no pinned host key given for {host}:{port}; refusing to connect")
    if os.path.isfile(known_hosts):
        keys = paramiko.HostKeys(known_hosts)
    else:
        keys = paramiko.HostKeys()
        entry = paramiko.hostkeys.HostKeyEntry.from_line(known_hosts.strip())
        if entry is None or entry.key is None:
            raise TunnelError("pinned host key is not a valid known_hosts line")
        for name in entry.hostnames:
            keys.add(name, entry.key.get_name(), entry.key)
    for pattern in _host_patterns(host, port):
        found = keys.lookup(pattern)
        if found:
            # prefer a modern key type when several are pinned
            for kind in ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "ssh-rsa"):
                if kind in found:
                    return found[kind]
            return next(iter(found.values()))
    raise TunnelError(f"no pinned host key for {host}:{port} in the given known_hosts")


def _key_types(key):
    name = key.get_name()
    return ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa") if name == "ssh-rsa" else (name,)


def verify_host_key(host, port, expected, timeout=10.0):
    """Handshake only far enough to see the server's host key; raise unless it is pinned."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TunnelError(f"cannot reach SSH at {host}:{port}: {exc}") from None
    transport = paramiko.Transport(sock)
    try:
        transport.get_security_options().key_types = _key_types(expected)
        transport.start_client(timeout=timeout)
        offered = transport.get_remote_server_key()
    except paramiko.SSHException as exc:
        raise TunnelError(f"host key mismatch for {host}:{port}: server offers no "
                          f"{expected.get_name()} host key ({exc}); refusing to connect") from None
    finally:
        transport.close()
    if offered.asbytes() != expected.asbytes():
        raise TunnelError(f"host key mismatch for {host}:{port}: server presented "
                          f"{offered.get_name()} {offered.fingerprint}, pinned "
                          f"{expected.fingerprint}; refusing to connect")


def client_auth(key_file, key_password=None):
    """``(pkey, use_agent)``: how the tunnel authenticates, the way pyinfra does.

    A key file is loaded (decrypted with ``key_password``); without a key file, the keys
    ssh-agent holds and the default ``~/.ssh/id_*`` files are offered. An encrypted key
    without a passphrase is left to ssh-agent (pyinfra would prompt; the channel step
    cannot). A wrong passphrase or a file that is no key is a TunnelError.
    """
    if not key_file:
        return None, True
    try:
        return load_private_key(key_file, key_password), False
    except NeedsPassphrase:
        return None, True
    except KeyFileError as exc:
        raise TunnelError(f"cannot load SSH key: {exc}") from None


@contextlib.contextmanager
def open_admin_tunnel(ssh_host, *, ssh_user, ssh_key_file, known_hosts, ssh_port=22,
                      remote_port=3000, remote_host="127.0.0.1", local_port=0,
                      timeout=10.0, ssh_key_password=None):
    """Forward ``127.0.0.1:<local_port>`` to ``remote_host:remote_port`` on the gateway.

    Yields the local base URL (``http://127.0.0.1:PORT``). The server's host key must
    match the pinned key exactly; unknown or changed keys raise :class:`TunnelError`
    (no auto-add). Authentication follows :func:`client_auth`.
    """
    host_key = pinned_host_key(known_hosts, ssh_host, ssh_port)
    pkey, use_agent = client_auth(ssh_key_file, ssh_key_password)
    verify_host_key(ssh_host, ssh_port, host_key, timeout)  # clear error before sshtunnel
    logger = logging.getLogger("llminfra.oneapi.tunnel")
    logger.addHandler(logging.NullHandler())
    try:
        forwarder = sshtunnel.SSHTunnelForwarder(
            (ssh_host, ssh_port), ssh_username=ssh_user, ssh_pkey=pkey, ssh_host_key=host_key,
            ssh_config_file=None, allow_agent=use_agent,
            host_pkey_directories=None if use_agent else [],
            remote_bind_address=(remote_host.strip("[]"), remote_port),
            local_bind_address=("127.0.0.1", local_port), logger=logger, set_keepalive=15.0)
    except ValueError:  # sshtunnel: "No password or public key available!"
        raise TunnelError(f"SSH to {ssh_user}@{ssh_host}:{ssh_port}: no key to offer (set "
                          "ssh.key, or start ssh-agent and add the key)") from None
    sshtunnel.SSH_TIMEOUT = timeout
    try:
        forwarder.start()
    except (paramiko.SSHException, sshtunnel.BaseSSHTunnelForwarderError, OSError) as exc:
        if "host key" in str(exc).lower():
            raise TunnelError(f"host key mismatch for {ssh_host}:{ssh_port}: the server's key "
                              f"is not the pinned {host_key.get_name()} "
                              f"{host_key.fingerprint}; refusing to connect") from None
        raise TunnelError(f"SSH tunnel to {ssh_user}@{ssh_host}:{ssh_port} failed: "
                          f"{exc}") from None
    try:
        yield f"http://127.0.0.1:{forwarder.local_bind_port}"
    finally:
        forwarder.stop()
