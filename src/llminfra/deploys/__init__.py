"""The kit's deploys: packaged ``@deploy()`` functions the scripts in ``deploys/`` call."""

from llminfra import oporder

oporder.install()  # every deploy script imports this package before its first op call
