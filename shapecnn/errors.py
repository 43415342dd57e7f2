"""The errors shapecnn raises for input it refuses.

Every one of them is the user's to fix, so the CLI turns them into a one-line message and exit
status 1, and the page shows them next to the widget that caused them.
"""


class ShapeCNNError(Exception):
    """Input that shapecnn refuses; the message says what was wrong and what is allowed."""


class InvalidLabelError(ShapeCNNError, ValueError):
    """A class label or dataset name that is not allowed as a folder name."""


class BlankDrawingError(ShapeCNNError, ValueError):
    """A drawing with no ink on it."""


class InvalidImageError(ShapeCNNError, ValueError):
    """A file or array that is not a usable image."""


class DatasetError(ShapeCNNError):
    """A dataset that cannot be trained or evaluated on as it is."""


class ModelFileError(ShapeCNNError):
    """A model file that is missing or not a shapecnn model."""


class StorageError(ShapeCNNError):
    """The disk refused a write (full, read-only, no permission); nothing was half written."""
