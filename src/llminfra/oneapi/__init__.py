"""OneAPI gateway configuration as code.

- :mod:`.client` - ``OneAPIClient`` (admin API over httpx, access-token auth).
- :mod:`.tunnel` - ``open_admin_tunnel`` (SSH forward to the loopback admin port,
  pinned host key).
- :mod:`.desired` - ``DesiredChannel``, ``DesiredToken``, ``DesiredState``.
- :mod:`.reconcile` - ``plan(...) -> Plan`` and ``apply(...) -> ApplyResult``.
- :mod:`.localstate` - ``LocalState`` (key fingerprints, token secrets, backups).
- :mod:`.emulator` - stdlib-only OneAPI emulator (``python3 -m llminfra.oneapi.emulator``).

Nothing is imported here so the emulator package stays importable alone.
"""
