"""SSH tunnel to the gateway's loopback-only admin port, with a pinned host key.

One paramiko Transport per tunnel: the host key is checked on the handshake that then
authenticates and carries the forwarded connections (the forwarding library used before needed
a second connection for that check, and its stop polled for up to 100 ms on every deploy's
critical path).
"""
import contextlib
import os
import select
import socket
import threading

import paramiko

from llminfra.commands.net import known_hosts_name
from llminfra.model.sshfiles import KeyFileError, NeedsPassphrase, load_private_key

from .errors import OneAPIError

# the files ssh and pyinfra offer without being told, in ssh's order
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
CHUNK = 65536


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


def _handshake(host, port, expected, timeout):
    """A started client Transport whose server proved to hold exactly the pinned key."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TunnelError(f"cannot reach SSH at {host}:{port}: {exc}") from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.auth_timeout = timeout
    # offering only the pinned key's type makes a server holding several keys show that one
    transport.get_security_options().key_types = _key_types(expected)
    try:
        transport.start_client(timeout=timeout)
        offered = transport.get_remote_server_key()
    except paramiko.IncompatiblePeer as exc:
        transport.close()
        raise TunnelError(f"host key mismatch for {host}:{port}: server offers no "
                          f"{expected.get_name()} host key ({exc}); refusing to connect") from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        transport.close()
        raise TunnelError(f"SSH handshake with {host}:{port} failed: {exc}") from None
    if offered.asbytes() != expected.asbytes():
        transport.close()
        raise TunnelError(f"host key mismatch for {host}:{port}: server presented "
                          f"{offered.get_name()} {offered.fingerprint}, pinned "
                          f"{expected.fingerprint}; refusing to connect")
    return transport


def _default_keys():
    """Unencrypted default key files; encrypted ones are ssh-agent's (nobody can type here)."""
    for name in DEFAULT_KEYS:
        path = os.path.expanduser(f"~/.ssh/{name}")
        if os.path.isfile(path):
            with contextlib.suppress(KeyFileError):
                yield load_private_key(path, None)


def _authenticate(transport, user, pkey, use_agent, where):
    """Offer the key file, or ssh-agent's keys then the default files, until one is taken."""
    candidates = [] if pkey is None else [pkey]
    agent = None
    try:
        if use_agent:
            try:
                agent = paramiko.Agent()  # without SSH_AUTH_SOCK: an agent holding no keys
            except paramiko.SSHException as exc:
                raise TunnelError(f"SSH to {where}: ssh-agent: {exc}") from None
            candidates += [*agent.get_keys(), *_default_keys()]
        for key in candidates:
            try:
                transport.auth_publickey(user, key)
            except paramiko.AuthenticationException:
                continue
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise TunnelError(f"SSH to {where} failed during authentication: {exc}") from None
            if transport.is_authenticated():
                return
    finally:
        if agent is not None:
            agent.close()
    if not candidates:
        raise TunnelError(f"SSH to {where}: no key to offer (set ssh.key, or start ssh-agent "
                          "and add the key)")
    raise TunnelError(f"SSH to {where}: the server refused every key offered "
                      f"({len(candidates)})")


def _pump(conn, chan):
    """Copy bytes both ways until either side ends, then close both."""
    try:
        while True:
            readable, _, _ = select.select([conn, chan], [], [])
            for src, dst in ((conn, chan), (chan, conn)):
                if src in readable:
                    data = src.recv(CHUNK)
                    if not data:
                        return
                    dst.sendall(data)
    except (OSError, ValueError, EOFError, paramiko.SSHException):  # a side closed under us
        return  # (ValueError: fd already -1)
    finally:
        conn.close()
        with contextlib.suppress(EOFError, OSError, paramiko.SSHException):
            chan.close()  # its connection may be gone already


def _forward(conn, peer, transport, remote, timeout, chans):
    try:
        chan = transport.open_channel("direct-tcpip", remote, peer, timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError):
        # the HTTP client sees the connection closed, which OneAPIClient reports as an error
        conn.close()
        return
    chans.add(chan)
    try:
        _pump(conn, chan)
    finally:
        chans.discard(chan)


def _accept(listener, transport, remote, timeout, chans):
    while True:
        try:
            conn, peer = listener.accept()
        except OSError:  # the listener was shut down: the forward is closing
            return
        # a thread per connection, so one slow channel open does not hold up the next accept
        threading.Thread(target=_forward, args=(conn, peer, transport, remote, timeout, chans),
                         daemon=True).start()


@contextlib.contextmanager
def forwarded(transport, remote, local_port=0, timeout=10.0):
    """``http://127.0.0.1:PORT`` forwarded to ``remote`` (host, port) on the far side of an
    authenticated ``transport``: one ``direct-tcpip`` channel per accepted connection. The
    transport stays open (it may be pyinfra's own connection, see ``operations.oneapi``);
    the channels opened here are closed on exit. Under gevent's patching (a pyinfra process)
    the threads are greenlets and ``select`` is gevent's, so this runs in pyinfra's hub."""
    try:
        listener = socket.create_server(("127.0.0.1", local_port))
    except OSError as exc:
        raise TunnelError(f"cannot listen on 127.0.0.1:{local_port}: {exc}") from None
    chans = set()
    threading.Thread(target=_accept, args=(listener, transport, remote, timeout, chans),
                     daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        # shutdown() wakes the blocked accept() at once on Linux (close() alone would not);
        # the acceptor is not joined, so a platform where it stays blocked cannot hang the exit
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for chan in list(chans):
            with contextlib.suppress(EOFError, OSError, paramiko.SSHException):
                chan.close()  # its pump sees EOF and closes the local side


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
    transport = _handshake(ssh_host, ssh_port, host_key, timeout)
    try:
        _authenticate(transport, ssh_user, pkey, use_agent,
                      f"{ssh_user}@{ssh_host}:{ssh_port}")
        transport.set_keepalive(15)
        with forwarded(transport, (remote_host.strip("[]"), remote_port), local_port,
                       timeout) as url:
            yield url
    finally:
        transport.close()
