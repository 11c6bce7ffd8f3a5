"""OneAPI gateway configuration as code.

- :mod:`.client` - ``OneAPIClient`` (admin API over httpx, access-token auth).
- :mod:`.tunnel` - ``open_admin_tunnel`` (SSH forward to the loopback admin port,
  pinned host key).
- :mod:`.desired` - ``DesiredChannel``, ``DesiredToken``, ``DesiredState``.
- :mod:`.reconcile` - ``plan(...) -> Plan`` and ``apply(...) -> ApplyResult``.
- :mod:`.localstate` - ``LocalState`` (key fingerprints, token secrets, backups).

The emulator the tests drive lives in the lab package (``llminfra_lab.oneapi_emulator``).
"""
