"""Remove what the kit made: `pyinfra inventory/prod.py deploys/teardown.py [--limit HOST]`.

Data (model caches, OneAPI's database, certificates) stays unless `--data purge=true`.
A host about to leave the inventory is torn down first, while it is still declared.
"""

from pyinfra import host

from llminfra.deploys.teardown import teardown, wants_purge
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
teardown(host.data.llminfra_stack, host.data.llminfra_name,
         purge=wants_purge(host.data.get("purge")))
