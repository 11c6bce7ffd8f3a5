"""A point every host of a deploy reaches together.

pyinfra orders operations as a graph: each host's own ops in call order, and different hosts'
ops by their *position* in each host's list, not by where they are called. An op called at the
same place by every host becomes one node of that graph, so no host passes it before every
host has finished what comes earlier.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation


@operation()
def barrier(reached: str):
    """
    Change nothing: order the deploy. Call it unconditionally, at one place, on every host.

    + reached: what is done once every host is past this point
    """
    host.noop(reached)
    yield from ()
