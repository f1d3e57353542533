"""Data: the FER2013 loader, image folders, synthetic faces and synthetic photos, and where
the data sets live (:func:`get_data_home`). Images are read by :func:`fer_sklearn.io.read_image`.
"""

from ._compose import compose_photo
from ._fer2013 import iter_csv_blocks, load_fer2013, select_usage
from ._fer2013_chunks import iter_fer2013_pixels, parse_fer2013_pixels
from ._home import fer2013_file, get_data_home
from ._hostile import make_hostile_folder
from ._image_folder import load_image_folder
from ._sources import load_dataset, load_train_valid
from ._synthetic import make_faces

__all__ = [
    "compose_photo", "fer2013_file", "get_data_home", "iter_csv_blocks", "iter_fer2013_pixels",
    "load_dataset", "load_fer2013", "load_image_folder", "load_train_valid", "make_faces",
    "make_hostile_folder",
    "parse_fer2013_pixels", "select_usage",
]
