"""The dataset on disk, in the Keras tutorial's layout.

    <root>/train/<class>/*.png
    <root>/test/<class>/*.png

Classes are the sorted folder names, as in `keras.utils.image_dataset_from_directory`. Every write
is atomic (a hidden temporary file, then a link to a fresh unique name), so a crash never leaves a
half-written drawing and two people saving into one class at the same moment both keep theirs.
Hidden files (names starting with '.') are never drawings: leftover temporary files live there.
"""

from __future__ import annotations

import functools
import io
import os
import time
import unicodedata
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from shapecnn.config import SPLITS, PreprocessConfig
from shapecnn.errors import (
    DatasetError,
    InvalidImageError,
    InvalidLabelError,
    ShapeCNNError,
)
from shapecnn.preprocess import DEFAULT_CONFIG, ink_box, open_image, preprocess, to_ink

MAX_LABEL_LENGTH = 40
LABEL_RULE = (
    f"1 to {MAX_LABEL_LENGTH} characters: letters (any script) and digits, with '-', '_' "
    "and single spaces inside; it must start and end with a letter or digit"
)
TEMP_PREFIX = ".tmp-"
# Temporary files older than this are leftovers of a crashed save, not a save in progress.
STALE_TEMP_SECONDS = 600
SPLIT_CHOICES = (*SPLITS, "auto")
# The formats keras.utils.image_dataset_from_directory reads.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


# --- labels -------------------------------------------------------------------------------------


def _is_word_char(char: str) -> bool:
    # Letters (L*) of any script, combining marks (M*, needed by scripts such as Devanagari) and
    # decimal digits (Nd).
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def validate_label(label: object) -> str:
    """Return the label (NFC-normalised) if it is a safe class folder name, else raise.

    Never '.', '..', path separators or control characters: a label becomes a folder name.
    """
    if not isinstance(label, str):
        raise InvalidLabelError(f"label must be text, got {type(label).__name__}")
    normalised = unicodedata.normalize("NFC", label)
    problem = None
    if not 1 <= len(normalised) <= MAX_LABEL_LENGTH:
        problem = f"it has {len(normalised)} characters"
    elif not (_is_word_char(normalised[0]) and _is_word_char(normalised[-1])):
        problem = "it must start and end with a letter or digit"
    elif unicodedata.category(normalised[0])[0] == "M":
        # A combining mark belongs to the letter before it; there is none at the start.
        problem = "it must start with a letter or digit, not a combining mark"
    elif "  " in normalised:
        problem = "it has two spaces in a row"
    else:
        bad = [c for c in normalised if not (_is_word_char(c) or c in " -_")]
        if bad:
            problem = f"{bad[0]!r} is not allowed"
    if problem:
        raise InvalidLabelError(f"label must be {LABEL_RULE}; got {label!r} ({problem})")
    return normalised


def resolve_label(root: str | os.PathLike, label: object) -> str:
    """Validate a label for saving into `root`: an existing class or a truly new one.

    A label that differs only by case from an existing class is refused, since 'Circle' and
    'circle' would become two classes that look like one (and one folder on some file systems).
    """
    label = validate_label(label)
    for existing in list_classes(root):
        if existing != label and existing.casefold() == label.casefold():
            raise InvalidLabelError(
                f"label {label!r} differs only by case from the existing class {existing!r}; "
                f"use {existing!r} or a different name"
            )
    return label


def validate_split(split: str) -> str:
    if split not in SPLIT_CHOICES:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLIT_CHOICES)}; got {split!r}")
    return split


# --- listing ------------------------------------------------------------------------------------


def _visible_entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if not entry.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def list_classes(root: str | os.PathLike) -> list[str]:
    """The class names: every class folder in train or test, sorted as Keras sorts them."""
    return sorted({name for split in SPLITS for name in list_class_folders(Path(root) / split)})


def list_class_folders(folder: str | os.PathLike) -> list[str]:
    """The sorted names of the class folders directly inside `folder`."""
    return sorted(entry.name for entry in _visible_entries(Path(folder)) if entry.is_dir())


def _files_in(folder: Path) -> list[Path]:
    return sorted(Path(entry.path) for entry in _visible_entries(folder) if entry.is_file())


def list_files(root: str | os.PathLike, split: str, label: str) -> list[Path]:
    """Every visible file in one class folder of one split, drawings or not, sorted by name."""
    return _files_in(Path(root) / split / label)


def list_images(root: str | os.PathLike, split: str, label: str) -> list[Path]:
    """The image files of one class folder of one split, sorted by name (for our names: oldest
    first). Judged by the name alone, as Keras does; loading names the ones that do not decode."""
    return [p for p in list_files(root, split, label) if p.suffix.lower() in IMAGE_SUFFIXES]


def count_images(root: str | os.PathLike) -> dict[str, dict[str, int]]:
    """{class: {"train": n, "test": n}} from the folder listing alone; nothing is decoded."""
    return {
        label: {split: len(list_images(root, split, label)) for split in SPLITS}
        for label in list_classes(root)
    }


# --- writing ------------------------------------------------------------------------------------


def _unique_name() -> str:
    # Time first so names sort oldest first; random part so two processes saving in the same
    # microsecond still get different names.
    return f"{datetime.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.png"


def _write_atomically(folder: Path, write) -> Path:
    """Write a new file into `folder` via a hidden temporary file, never overwriting anything."""
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}.png"
    try:
        with open(temp, "xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        while True:
            final = folder / _unique_name()
            try:
                # link() fails if the name exists: no save can replace another's file.
                os.link(temp, final)
                break
            except FileExistsError:
                continue
    finally:
        temp.unlink(missing_ok=True)
    return final


def _as_storable_image(drawing) -> Image.Image:
    """A drawing as it is stored: transparency composited over white, grayscale.

    The model sees only luminance, and a grayscale PNG is about a third of an RGB one on disk.
    """
    paper = 1.0 - to_ink(drawing)
    return Image.fromarray(np.round(paper * 255).astype(np.uint8), mode="L")


def save_image(root: str | os.PathLike, split: str, label: str, image: Image.Image) -> Path:
    """Store a PIL image as a PNG in root/split/label/ atomically, under a unique name.

    Low-level: the label is validated, the image is not checked for ink (see save_drawing).
    """
    if split not in SPLITS:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    label = validate_label(label)
    folder = Path(root) / split / label
    return _write_atomically(folder, lambda handle: image.save(handle, format="PNG", optimize=True))


def choose_split(root: str | os.PathLike, label: str) -> str:
    """'test' for about one drawing in four of a class (as the tutorial's 15/5), else 'train'."""
    counts = count_images(root).get(label, {"train": 0, "test": 0})
    total = counts["train"] + counts["test"] + 1
    return "test" if (counts["test"] + 1) * 4 <= total else "train"


def save_drawing(
    root: str | os.PathLike,
    label: str,
    drawing,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> Path:
    """Save one drawing (canvas array, array, PIL image or file) as a sample of `label`.

    A blank drawing is refused (BlankDrawingError), as is a bad label; nothing is written then.
    """
    label = resolve_label(root, label)
    split = validate_split(split)
    ink_box(to_ink(drawing), config.ink_threshold)  # raises BlankDrawingError
    image = _as_storable_image(drawing)
    if split == "auto":
        split = choose_split(root, label)
    return save_image(root, split, label, image)


def import_images(
    root: str | os.PathLike,
    label: str,
    paths: list[str | os.PathLike],
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> list[Path]:
    """Import image files as drawings of `label`: all of them, or none.

    Every file is checked first (readable, an image, not blank); if any is refused the error
    names each refused file and nothing is written.
    """
    label = resolve_label(root, label)
    split = validate_split(split)
    if not paths:
        raise ShapeCNNError("no image files given: name at least one IMAGE to import")
    images, problems = [], []
    for path in paths:
        try:
            image = open_image(path)
            ink_box(to_ink(image), config.ink_threshold)
            images.append(image)
        except ShapeCNNError as error:
            problems.append(f"{path}: {error}" if str(path) not in str(error) else str(error))
    if problems:
        raise InvalidImageError(
            f"refused {len(problems)} of {len(paths)} files, nothing imported: "
            + "; ".join(problems)
        )
    saved = []
    for image in images:
        target = choose_split(root, label) if split == "auto" else split
        saved.append(save_image(root, target, label, _as_storable_image(image)))
    return saved


# --- uploads ------------------------------------------------------------------------------------

# One upload (all its files together). The page's uploader has the same limit
# (server.maxUploadSize in .streamlit/config.toml), so this guards the Python API too.
_MB = 1024 * 1024  # as Streamlit counts megabytes
MAX_UPLOAD_BYTES = 20 * _MB
# A zip can claim far more than it weighs ("zip bomb"): limits on what it may expand to.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 200 * _MB
MAX_ENTRY_BYTES = 20 * _MB
# What a zip made by macOS or Windows carries besides the drawings.
_SYSTEM_NAMES = ("__MACOSX", "Thumbs.db", "desktop.ini")


@dataclass
class ImportReport:
    """What an upload did: the drawings saved, and each file skipped (its name, why)."""

    saved: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _auto_splitter(root: str | os.PathLike, split: str):
    """A function label -> split: `split` itself, or choose_split's rule when it is 'auto'
    (counted once, then kept up to date here rather than by listing the folder per file)."""
    counts = {label: dict(c) for label, c in count_images(root).items()}

    def next_split(label: str) -> str:
        if split != "auto":
            return split
        c = counts.setdefault(label, {"train": 0, "test": 0})
        chosen = "test" if (c["test"] + 1) * 4 <= c["train"] + c["test"] + 1 else "train"
        c[chosen] += 1
        return chosen

    return next_split


def _entry_parts(name: str) -> list[str] | None:
    """The folders and file name of a zip entry, or None if the entry could write outside the
    dataset: an absolute path, a drive letter or a '..' component ("zip slip")."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    return parts


def _check_labels(root: str | os.PathLike, labels: list[str]) -> None:
    """Validate the labels of an upload together: each one, and no two differing only by case."""
    problems, seen = [], {}
    for label in labels:
        try:
            label = resolve_label(root, label)
        except InvalidLabelError as error:
            problems.append(str(error))
            continue
        other = seen.setdefault(label.casefold(), label)
        if other != label:
            problems.append(f"class folders {other!r} and {label!r} differ only by case")
    if problems:
        raise InvalidLabelError("nothing imported: " + "; ".join(problems))


def _read_drawing(name: str, data: bytes, config: PreprocessConfig) -> Image.Image:
    image = open_image(data, name=name)
    ink_box(to_ink(image), config.ink_threshold)  # raises BlankDrawingError
    return _as_storable_image(image)


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile stops at the declared size (checked against the limits) and checks the CRC.
    with archive.open(info) as entry:
        return entry.read(MAX_ENTRY_BYTES + 1)


def _zip_plan(archive: zipfile.ZipFile, upload: str, label: str | None):
    """[(entry, label, split or None)] for the drawings of a zip, and [(name, reason)] skipped.

    Raises for an archive that must not be unpacked at all (unsafe paths, a zip bomb)."""
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise InvalidImageError(
            f"{upload}: {len(entries):,} files; at most {MAX_ZIP_ENTRIES:,} per zip, "
            "nothing imported"
        )
    declared = sum(info.file_size for info in entries)
    if declared > MAX_ZIP_BYTES:
        raise InvalidImageError(
            f"{upload}: expands to {declared / _MB:,.0f} MB; at most "
            f"{MAX_ZIP_BYTES / _MB:,.0f} MB per zip, nothing imported"
        )
    unsafe = [info.filename for info in entries if _entry_parts(info.filename) is None]
    if unsafe:
        raise InvalidImageError(
            f"{upload}: refused, entries with '..', an absolute path or a drive letter could "
            f"write outside the dataset: {', '.join(repr(n) for n in unsafe[:5])}"
            + (f" and {len(unsafe) - 5} more" if len(unsafe) > 5 else "")
            + "; nothing imported"
        )
    plan, skipped = [], []
    for info in entries:
        *folders, filename = _entry_parts(info.filename)
        shown = f"{upload}/{info.filename}"
        if any(part.startswith(".") or part in _SYSTEM_NAMES for part in (*folders, filename)):
            skipped.append((shown, "hidden or system file"))
        elif Path(filename).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append((shown, "not an image file (PNG, JPEG, BMP or GIF)"))
        elif info.file_size > MAX_ENTRY_BYTES:
            skipped.append(
                (
                    shown,
                    f"{info.file_size / _MB:,.0f} MB; at most {MAX_ENTRY_BYTES // _MB} MB an image",
                )
            )
        elif len(folders) >= 2 and folders[-2] in SPLITS:
            plan.append((info, folders[-1], folders[-2]))
        elif folders and folders[-1] not in SPLITS:
            plan.append((info, folders[-1], None))
        elif label:
            plan.append((info, label, None))
        else:
            skipped.append((shown, "not in a class folder (<class>/<file> in the zip)"))
    return plan, skipped


def import_uploads(
    root: str | os.PathLike,
    uploads: list[tuple[str, bytes]],
    label: str | None = None,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> ImportReport:
    """Import uploaded files, given as (file name, bytes): images and zips of class folders.

    Images go to `label`. A zip holds <class>/<image> or train|test/<class>/<image> entries,
    under any folder; the class comes from the folder, the split from the zip when it has one,
    else from `split`. Every drawing is checked (an image, not blank, not too big) and written
    atomically under a new unique name; files that are not usable drawings are skipped and
    listed in the report.

    Refused as a whole, with nothing written: more than MAX_UPLOAD_BYTES, a bad or clashing
    class name, zip entries with '..', absolute paths or drive letters, and zips that would
    expand beyond MAX_ZIP_ENTRIES files or MAX_ZIP_BYTES.
    """
    split = validate_split(split)
    total = sum(len(data) for _, data in uploads)
    if total > MAX_UPLOAD_BYTES:
        raise InvalidImageError(
            f"the upload is {total / _MB:.1f} MB; at most {MAX_UPLOAD_BYTES // _MB} MB at "
            "once, nothing imported"
        )
    if not uploads:
        raise ShapeCNNError("no files given: upload images or a zip of class folders")
    report = ImportReport()
    archives, images = [], []
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
            except (zipfile.BadZipFile, OSError) as error:
                report.skipped.append((name, f"not a readable zip ({error})"))
                continue
            archives.append((name, archive))
        else:
            images.append((name, data))
    if images and not label:
        raise InvalidLabelError(
            "choose the class of the uploaded images (zip entries take theirs from their "
            "folder); nothing imported"
        )
    # Everything that refuses the whole upload is found before anything is decoded or written.
    plans, labels = [], [label] if images else []
    for name, archive in archives:
        plan, skipped = _zip_plan(archive, name, label)
        plans.append((name, archive, plan))
        report.skipped.extend(skipped)
        labels.extend(entry_label for _, entry_label, _ in plan)
    _check_labels(root, list(dict.fromkeys(labels)))
    labels = {raw: validate_label(raw) for raw in labels}
    next_split = _auto_splitter(root, split)

    def store(shown: str, raw_label: str, entry_split: str | None, read) -> None:
        try:
            image = _read_drawing(shown, read(), config)
        except (ShapeCNNError, zipfile.BadZipFile, RuntimeError, OSError) as error:
            # RuntimeError: an encrypted entry; BadZipFile: a damaged one.
            report.skipped.append((shown, str(error).removeprefix(f"{shown}: ")))
            return
        entry_label = labels[raw_label]
        target = entry_split or next_split(entry_label)
        report.saved.append(save_image(root, target, entry_label, image))

    for name, data in images:
        store(name, label, None, lambda data=data: data)
    for name, archive, plan in plans:
        with archive:
            for info, entry_label, entry_split in plan:
                shown = f"{name}/{info.filename}"
                store(
                    shown, entry_label, entry_split, functools.partial(_read_entry, archive, info)
                )
    return report


def import_zip(
    root: str | os.PathLike,
    source: str | os.PathLike | bytes,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> ImportReport:
    """Import a zip of class folders (a path or its bytes); see import_uploads."""
    if isinstance(source, (str, os.PathLike)):
        size = Path(source).stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise InvalidImageError(
                f"{source} is {size / _MB:.1f} MB; at most {MAX_UPLOAD_BYTES // _MB} MB at "
                "once, nothing imported"
            )
        name, data = Path(source).name, Path(source).read_bytes()
    else:
        name, data = "upload.zip", bytes(source)
    return import_uploads(root, [(name, data)], split=split, config=config)


def delete_image(root: str | os.PathLike, path: str | os.PathLike) -> None:
    """Delete one drawing of the dataset (refusing paths outside it)."""
    _inside_dataset(root, path).unlink()


def move_image(root: str | os.PathLike, path: str | os.PathLike, split: str, label: str) -> Path:
    """Move one drawing to another split and/or class, under a fresh unique name."""
    source = _inside_dataset(root, path)
    label = resolve_label(root, label)
    if split not in SPLITS:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    folder = Path(root) / split / label
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        target = folder / _unique_name()
        try:
            os.link(source, target)
            break
        except FileExistsError:
            continue
    source.unlink()
    return target


def _inside_dataset(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    root, path = Path(root).resolve(), Path(path).resolve()
    if path.parent.parent.parent != root or path.parent.parent.name not in SPLITS:
        raise ShapeCNNError(f"{path} is not a drawing of the dataset {root}")
    return path


def clean_temp_files(root: str | os.PathLike, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove temporary files left by crashed saves; returns how many were removed."""
    removed = 0
    cutoff = time.time() - older_than
    for split in SPLITS:
        for folder in Path(root, split).glob("*"):
            for temp in folder.glob(f"{TEMP_PREFIX}*"):
                try:
                    if temp.stat().st_mtime < cutoff:
                        temp.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
    return removed


# --- loading ------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Preprocessed drawings of one split: x (N x size x size x channels), y (class indices)."""

    x: np.ndarray
    y: np.ndarray
    paths: list[Path]
    class_names: list[str]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)


def load_samples(
    root: str | os.PathLike,
    split: str | None,
    class_names: list[str] | None = None,
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> Samples:
    """Decode and preprocess every drawing of a split, in class order.

    `split=None` reads `root` itself as a folder of class folders. Unreadable, non-image and blank
    files are skipped, and each one is named in a warning and in `Samples.skipped`.
    `class_names` fixes the label indices (default: the dataset's classes); folders of other
    classes are not read.
    """
    folder = Path(root) if split is None else Path(root) / split
    if class_names is None:
        class_names = list_classes(root) if split is not None else list_class_folders(folder)
    xs, ys, paths, skipped = [], [], [], []
    for index, label in enumerate(class_names):
        for path in _files_in(folder / label):
            try:
                xs.append(preprocess(path, config))
            except ShapeCNNError as error:
                reason = str(error).removeprefix(f"{path}: ")
                skipped.append((path, reason))
                warnings.warn(f"skipped {path}: {reason}", stacklevel=2)
                continue
            ys.append(index)
            paths.append(path)
    shape = (0, config.size, config.size, config.channels)
    x = np.stack(xs) if xs else np.zeros(shape, np.float32)
    return Samples(x, np.array(ys, dtype=np.int64), paths, list(class_names), skipped)


def find_problems(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """Every file in the dataset that training would skip, with the reason.

    Each file is decoded once per version (path, inode, mtime, size), so asking again after a
    save costs a listing and one decode of the new file, not a decode of the whole dataset.
    """
    problems = []
    for split in SPLITS:
        for label in list_classes(root):
            for path in list_files(root, split, label):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # deleted since the listing: nothing for training to skip
                reason = _problem_of(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
                if reason is not None:
                    problems.append((path, reason))
    return problems


@functools.lru_cache(maxsize=65536)
def _problem_of(path: str, _inode: int, _mtime_ns: int, _size: int) -> str | None:
    try:
        ink_box(to_ink(path), DEFAULT_CONFIG.ink_threshold)
    except ShapeCNNError as error:
        return str(error).removeprefix(f"{path}: ")
    return None


def require_dataset(root: str | os.PathLike) -> Path:
    """The dataset root, or a clear error when it has no train/ or test/ folder."""
    root = Path(root)
    if not any((root / split).is_dir() for split in SPLITS):
        raise DatasetError(
            f"{root} is not a dataset: expected {root}/train/<class>/*.png and "
            f"{root}/test/<class>/*.png"
        )
    return root
