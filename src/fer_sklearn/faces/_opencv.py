"""The OpenCV module, imported at first use with a clear message when it is missing."""


def opencv():
    """The cv2 module, with the install command when it is missing."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "face detection needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from exc
    return cv2
