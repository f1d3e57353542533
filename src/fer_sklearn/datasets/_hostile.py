"""A folder of photos from the wild: good small images, unusual valid ones and broken files.

To test that what reads photos (``fer-sklearn predict``, :class:`~fer_sklearn.EmotionRecognizer`,
:func:`~fer_sklearn.load_image_folder`) reports each bad file and loses no good one. Every file
is generated; nothing large is written (the decompression bombs are small PNGs that claim huge
sizes).
"""

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from ._synthetic import make_faces


def _png_header_only(width, height):
    """A tiny valid PNG of ``width`` x ``height`` 1-bit pixels, all black: a decompression bomb."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def _encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _bad_files(face):
    """``{kind: writer(path)}``: each writes one broken file (or folder, or link) at ``path``."""
    jpeg = _encoded(face, "JPEG")
    png = _encoded(face, "PNG")

    def write(data):
        return lambda path: path.write_bytes(data)

    return {
        "empty.jpg": write(b""),
        "truncated.jpg": write(jpeg[: len(jpeg) // 2]),
        "text.jpg": write(b"this is not an image\n" * 20),
        "bomb.png": write(_png_header_only(30000, 30000)),  # over 2x Pillow's limit: an error
        "nearbomb.png": write(_png_header_only(10000, 10000)),  # between 1x and 2x: a warning
        "corrupt.png": write(png[:60] + bytes(200) + png[-12:]),  # valid header, broken data
        "folder.jpg": lambda path: path.mkdir(),
        "dangling.jpg": lambda path: path.symlink_to(path.parent / "does-not-exist.jpg"),
        "loop.jpg": lambda path: path.symlink_to(path),
        "fifo.png": lambda path: os.mkfifo(path),  # opening it would wait forever
    }


def _unusual_files(face, rng):
    """``{name: bytes}``: valid images of unusual kinds, each analysed like any other."""
    gray = np.asarray(face)
    frames = [face, Image.fromarray(255 - gray)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], duration=100)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: EXIF orientation
    rgb = face.convert("RGB")
    return {
        "gray16.png": _encoded(Image.fromarray(gray.astype(np.uint16) * 257), "PNG"),
        "cmyk.jpg": _encoded(rgb.convert("CMYK"), "JPEG"),
        "animated.gif": animated.getvalue(),
        "alpha.png": _encoded(rgb.convert("RGBA"), "PNG"),
        "gray_alpha.png": _encoded(face.convert("LA"), "PNG"),
        "palette.png": _encoded(rgb.convert("P"), "PNG"),
        "one_pixel.png": _encoded(Image.new("L", (1, 1), 128), "PNG"),
        "long_strip.png": _encoded(Image.fromarray(rng.integers(0, 255, (3, 2000), np.uint8)),
                                   "PNG"),
        "rotated.jpg": _encoded(rgb, "JPEG", exif=exif),
        "picture.tif": _encoded(face, "TIFF"),
        "picture.bmp": _encoded(rgb, "BMP"),
        "picture.webp": _encoded(rgb, "WEBP"),
        "UPPER.JPG": _encoded(rgb, "JPEG"),
        "caf\udce9.png": _encoded(face, "PNG"),  # a file name that is not UTF-8 (Latin-1 "é")
    }


def make_hostile_folder(root, n_files=100, n_bad=None, *, size=64, random_state=0):
    """Write ``n_files`` files into ``root``: broken ones, unusual valid ones, plain faces.

    Parameters
    ----------
    root : path
        The folder to fill (created).
    n_files : int, default=100
        Files in all.
    n_bad : int or None, default=None
        Broken files among them, cycling through the kinds of broken file (6% when None).
    size : int, default=64
        Side of the plain faces (synthetic, upscaled from 48 pixels).
    random_state : int, default=0
        Seeds the faces and the unusual files.

    Returns
    -------
    bad, good : list of Path
        The broken files and the readable ones.

    Examples
    --------
    >>> import tempfile
    >>> from fer_sklearn.datasets import make_hostile_folder
    >>> bad, good = make_hostile_folder(tempfile.mkdtemp(), n_files=20, n_bad=5)
    >>> len(bad), len(good)
    (5, 15)
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    n_bad = round(0.06 * n_files) if n_bad is None else n_bad
    faces, _ = make_faces(max(1, n_files - n_bad), random_state=random_state)
    first = Image.fromarray(faces[0]).resize((size, size))
    bad_kinds, unusual = _bad_files(first), _unusual_files(first, rng)
    kinds = sorted(bad_kinds)
    bad, good = [], []
    for i in range(n_bad):
        kind = kinds[i % len(kinds)]
        path = root / f"bad-{i:04d}-{kind}"
        bad_kinds[kind](path)
        bad.append(path)
    names = sorted(unusual)
    for i in range(n_files - n_bad):
        if i < len(names):
            path = root / f"odd-{i:04d}-{names[i]}"
            path.write_bytes(unusual[names[i]])
        else:
            path = root / f"face-{i:04d}.{'png' if i % 2 else 'jpg'}"
            Image.fromarray(faces[i]).resize((size, size)).save(path)
        good.append(path)
    return bad, good
