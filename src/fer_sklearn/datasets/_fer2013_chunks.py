"""The pixels of a FER2013 CSV a chunk of rows at a time, for readers that stream the file."""

from ._fer2013 import _find_columns, _parse_pixels, iter_csv_blocks


def iter_fer2013_pixels(path, chunk_size):
    """Yield the ``pixels`` fields of a FER2013 CSV, ``chunk_size`` rows at a time.

    Parameters
    ----------
    path : str or path-like
        The CSV file (``.csv`` or ``.csv.gz``), in any layout that
        :func:`~fer_sklearn.load_fer2013` reads.
    chunk_size : int
        Rows per chunk.

    Yields
    ------
    start : int
        The index of the chunk's first row (0 for the row after the header).
    pixels : list of str
        The rows' space-separated pixel fields, unparsed; parse them with
        :func:`parse_fer2013_pixels`.

    Raises
    ------
    ValueError
        If the file has no ``pixels`` column, or a line is longer than a
        FER2013 row can be (see :func:`iter_csv_blocks`).
    """
    blocks = iter_csv_blocks(path, chunk_size)  # a stream with a bound per line
    header = next(blocks)
    column = header.index(_find_columns(header, path)["pixels"])
    start = 0
    for _, rows in blocks:
        pixels = [row[column] for row in rows]
        yield start, pixels
        start += len(pixels)


def parse_fer2013_pixels(pixels, start, path):
    """Parse the pixel fields of FER2013 rows into 48x48 images.

    Parameters
    ----------
    pixels : list of str
        Space-separated pixel fields, e.g. a chunk of :func:`iter_fer2013_pixels`.
    start : int
        The index of the first row in its file, so that errors name the line.
    path : str or path-like
        The file, named in error messages.

    Returns
    -------
    images : ndarray of uint8, shape (n, 48, 48)
        One image per field.

    Raises
    ------
    ValueError
        Naming the file and line of the first bad row.

    Examples
    --------
    >>> from fer_sklearn.datasets import parse_fer2013_pixels
    >>> parse_fer2013_pixels([" ".join(["7"] * 2304)], 0, "faces.csv").shape
    (1, 48, 48)
    """
    lines = range(start + 2, start + 2 + len(pixels))  # line 1: the header
    return _parse_pixels(pixels, lines, path)
