"""Python's cycle collector and the records: loaded once, in no reference cycle, alive until the command ends.

Loading 10,000 certificates makes about a million objects and no reference cycle. The collector would scan them
again and again while they are made (a third of the time of a check), and once more in full at each of its later
full collections (half a second at 10,000 each, and a build makes several). ``no_cycles`` turns it off while they
are made; ``kept_whole`` keeps what is made within it out of its scans (``gc.freeze``) until it ends, for a
command that holds its records to the end (a build). Nothing is ever left frozen after either, and a process that
froze objects of its own keeps them frozen, and only them: it is then left as it is (unfreezing would let go of its
objects too).
"""

from __future__ import annotations

import contextlib
import contextvars
import gc

_KEPT = contextvars.ContextVar("certreg_kept_whole", default=False)


@contextlib.contextmanager
def no_cycles():
    """The collector off for the block. What it made goes to the collector's oldest generation without a scan (as
    if it had outlived the younger ones), or, within ``kept_whole``, out of its reach until that ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if _KEPT.get():
                gc.freeze()
            elif not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def freeze() -> None:
    """Within ``kept_whole``, what is alive now out of the collector's scans until it ends; elsewhere nothing."""
    if _KEPT.get():
        gc.freeze()


@contextlib.contextmanager
def kept_whole():
    """What is made in the block and frozen (``no_cycles``, ``freeze``) stays out of the collector's scans until the
    block ends, however it ends; then all of it is the collector's again. A process that froze objects of its own
    before is left as it is."""
    if gc.get_freeze_count() or _KEPT.get():
        yield
        return
    token = _KEPT.set(True)
    try:
        yield
    finally:
        _KEPT.reset(token)
        gc.unfreeze()
