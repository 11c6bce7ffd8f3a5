"""Test-process setup shared by every tier."""

import gevent.monkey

# pyinfra_testing imports pyinfra_cli, and importing pyinfra_cli monkey-patches the whole
# process for gevent. The OneAPI tunnel (sshtunnel threads) and the in-process HTTP servers in
# these tests must run on real threads, as they do in the `llminfra` CLI, so the test process
# stays unpatched; pyinfra runs that tests start as subprocesses patch themselves as usual.
gevent.monkey.patch_all = lambda *args, **kwargs: None
