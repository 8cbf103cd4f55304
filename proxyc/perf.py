"""Small tools for the hot paths of large configs."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    """Building tens of thousands of IR nodes allocates no garbage cycles worth collecting, but
    the cyclic collector keeps rescanning every new container: pausing it during a bulk build
    cuts model-construction time by a third or more. Reference counting still frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
