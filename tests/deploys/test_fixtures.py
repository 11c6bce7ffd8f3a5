"""Facts-in -> commands-out fixture tests for the ops and facts private to the deploys."""

from pathlib import Path

from pyinfra_testing.facts import make_fact_tests
from pyinfra_testing.operations import make_operation_tests

_HERE = Path(__file__).parent
_cls = None
for kind, make in (("ops", make_operation_tests), ("facts", make_fact_tests)):
    for folder in sorted((_HERE / kind).iterdir()):
        _cls = make("llminfra.deploys", folder.name, folder)
        _cls.__name__ = f"Test_{kind}_{folder.name.replace('.', '_')}"
        globals()[_cls.__name__] = _cls
del _cls  # a TestCase is collected under any name: keep only the named copies
