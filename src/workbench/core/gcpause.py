"""Keep Python's cyclic garbage collector off a snapshot while it is built and checked, and afterwards.

Collection creates a few hundred thousand long-lived objects, and every generation-2 pass rescans all of them
while holding the GIL: on 2,000 tables 4 passes cost 150 ms of an audit, on 10,000 tables 12 passes cost
1.5 s, and in the desktop app the passes that followed an audit froze the window for up to 260 ms each.
The collector is paused during the work; when it ends normally, everything alive is moved out of the
collector's reach (`gc.freeze`). That is safe because a snapshot and its findings hold no reference cycles
(tests/db/test_audit_robustness.py checks it): reference counting frees them when they are dropped.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic collection inside the block (nestable, and shared by threads)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    finished = False
    try:
        yield
        finished = True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if finished:  # after a failure, what was built may sit in cycles through the traceback
                    gc.freeze()
                if _was_enabled:
                    gc.enable()
