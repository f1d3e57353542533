"""Data: the FER2013 loader, image folders and synthetic faces."""

from ._fer2013 import load_fer2013, select_usage
from ._image_folder import IMAGE_SUFFIXES, load_image_folder
from ._images import iter_image_paths, read_image
from ._sources import load_dataset, load_train_valid
from ._synthetic import make_faces

__all__ = [
    "IMAGE_SUFFIXES", "iter_image_paths", "load_dataset", "load_fer2013", "load_image_folder",
    "load_train_valid", "make_faces", "read_image", "select_usage",
]
