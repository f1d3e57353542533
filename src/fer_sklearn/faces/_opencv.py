"""The OpenCV module, imported at first use with a clear message when it is missing."""

import contextlib
import queue


def opencv():
    """The cv2 module, with the install command when it is missing."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "face detection needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from exc
    return cv2


class InstancePool:
    """Idle copies of an OpenCV object that threads cannot share, lent one thread at a time.

    A Haar cascade holds its buffers, so two threads using one copy can get
    each other's faces. Each borrower gets a copy
    of its own, made by ``make`` when none is idle, and gives it back for the
    next: as many copies as threads ever ran at once, each loaded once.

    Parameters
    ----------
    make : callable
        Returns a new copy.
    """

    def __init__(self, make):
        self._make = make
        self._idle = queue.SimpleQueue()

    @contextlib.contextmanager
    def borrowed(self):
        """A copy for the ``with`` block, given back after it."""
        try:
            item = self._idle.get_nowait()
        except queue.Empty:
            item = self._make()
        try:
            yield item
        finally:
            self._idle.put(item)
