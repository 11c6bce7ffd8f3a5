"""pyinfra's operation order, read from the call stack without ``inspect.stack()``.

In CLI mode pyinfra orders each op call by the line numbers of the call stack below the
deploy file (``pyinfra.api.util.get_operation_order_from_stack``). It gets them with
``inspect.stack()``, which for every frame also looks up its module among all loaded ones and
reads a line of its source, and then calls ``getframeinfo`` on every frame again: about 2 ms
per op call here, ~0.2 s of the operator's CPU for the kit's ~120 ops per no-change run, spent
before the last host's facts are even asked for. :func:`operation_order` gives the same list
from the frames themselves (a frame's file is its code's ``co_filename``, the name
``getframeinfo`` reports for source files; its line is ``f_lineno``).
``tests/unit/test_oporder.py`` checks both give the same order on the installed pyinfra.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pyinfra
from pyinfra.api import util as _util

# the module: `pyinfra.api.operation` as an attribute is the decorator it defines
_operation = importlib.import_module("pyinfra.api.operation")


def operation_order(state: Any) -> list[int]:
    """What ``get_operation_order_from_stack(state)`` returns, for the caller's stack."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()  # outermost first
    start = 0
    if state.current_deploy_filename:  # from the first frame in the deploy file; none if it
        start = next((i for i, f in enumerate(frames)  # is absent (pyinfra keeps only its own)
                      if f.f_code.co_filename == state.current_deploy_filename), len(frames))
    lines = [state.current_op_file_number] if pyinfra.is_cli else []
    lines += [f.f_lineno for f in frames[start:]
              if not f.f_code.co_filename.startswith(_util.PYINFRA_INSTALL_DIR)]
    return lines


def install() -> None:
    """Use :func:`operation_order` where pyinfra's op wrapper looks the order up."""
    if getattr(_operation, "get_operation_order_from_stack", None) is not None:
        _operation.get_operation_order_from_stack = operation_order
