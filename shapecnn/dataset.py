"""The dataset on disk, in the Keras tutorial's layout.

    <root>/train/<class>/*.png
    <root>/test/<class>/*.png

Classes are the sorted folder names, as in `keras.utils.image_dataset_from_directory`. Every write
is atomic (a hidden temporary file, then a link to a fresh unique name), so a crash never leaves a
half-written drawing and two people saving into one class at the same moment both keep theirs.
Hidden files (names starting with '.') are never drawings: leftover temporary files live there.

Several files are written together (an import) by staging them in a hidden folder inside the
dataset and then publishing them under the dataset's lock file, with a log that lets the next run
undo a publish that a crash interrupted: an import lands whole or not at all. Class folders are
created, renamed and deleted under the same lock, so two people saving "Star" and "star" at once
cannot make two classes. A class folder holding no images is not a class.

Deleted drawings go to the dataset's bin, a hidden folder beside train/ and test/ (.bin/), from
where a delete can be undone until the clean-up of leftovers removes them, after a week.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import json
import os
import re
import shutil
import stat
import threading
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

try:
    import fcntl
except ImportError:  # Windows: no flock; writes go ahead unlocked there
    fcntl = None

from shapecnn.config import BIN_KEEP_SECONDS, SPLITS, STALE_TEMP_SECONDS, PreprocessConfig
from shapecnn.errors import (
    DatasetError,
    InvalidImageError,
    InvalidLabelError,
    ShapeCNNError,
    StorageError,
)
from shapecnn.preprocess import (
    DEFAULT_CONFIG,
    ink_box,
    not_a_file,
    open_image,
    open_regular_file,
    preprocess,
    to_ink,
)

MAX_LABEL_LENGTH = 40
LABEL_RULE = (
    f"1 to {MAX_LABEL_LENGTH} characters: letters (any script) and digits, with '-', '_' "
    "and single spaces inside; it must start and end with a letter or digit"
)
TEMP_PREFIX = ".tmp-"
SPLIT_CHOICES = (*SPLITS, "auto")
# The formats keras.utils.image_dataset_from_directory reads.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Folders and files that operating systems put on disks and into zips; never a class or drawing.
# (Names starting with '.' such as .DS_Store, .Trashes, .Spotlight-V100 are hidden anyway.)
SYSTEM_NAMES = frozenset(
    {"__MACOSX", "$RECYCLE.BIN", "System Volume Information", "lost+found"}
    | {"Thumbs.db", "desktop.ini", "Desktop.ini"}
)
# Hidden names in the dataset root: the work folders of imports, class deletions and renames
# (left behind only by a crash, and finished or undone by the next write).
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".trash-"
RENAME_PREFIX = ".rename-"
MOVE_PREFIX = ".move-"
# Deleted drawings: root/.bin/<entry>/<split>/<class folder>/<file>, beside train/ and test/, so
# no listing, count or training run sees them (see delete_images).
BIN_FOLDER = ".bin"
# Who made a drawing: a PNG text chunk, so the Keras layout (and every reader of it) is
# unchanged. A name is 1 to MAX_DRAWN_BY_LENGTH printable characters.
DRAWN_BY_KEY = "drawn_by"
MAX_DRAWN_BY_LENGTH = 60


# --- labels -------------------------------------------------------------------------------------


def _is_word_char(char: str) -> bool:
    # Letters (L*) of any script, combining marks (M*, needed by scripts such as Devanagari) and
    # decimal digits (Nd).
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def validate_label(label: object) -> str:
    """Return the label (NFC-normalised) if it is a safe class folder name, else raise.

    Never '.', '..', path separators or control characters: a label becomes a folder name.
    Names are compared after NFC, so 'café' typed on Linux and 'café' written by macOS (with a
    separate accent) are one class; look-alike compatibility characters (full-width letters,
    ligatures) are refused, since they would make a second class that looks like the first.
    """
    return _validate_name(label, "label")


def _validate_name(label: object, what: str) -> str:
    """validate_label's rule for any name that becomes a folder (`what` names it in errors)."""
    if not isinstance(label, str):
        raise InvalidLabelError(f"{what} must be text, got {type(label).__name__}")
    normalised = _nfc(label)
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
        raise InvalidLabelError(f"{what} must be {LABEL_RULE}; got {_short(label)} ({problem})")
    plain = unicodedata.normalize("NFKC", normalised)
    if plain != normalised:
        raise InvalidLabelError(
            f"{what} {normalised!r} uses look-alike characters (such as full-width letters or "
            f"ligatures); write it as {plain!r}"
        )
    return normalised


def _short(text: str, limit: int = 60) -> str:
    """repr() of a label for an error line, cut short: a 300-character label is not echoed."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _case_twin(label: str, existing) -> str | None:
    """An existing class name that differs from `label` only by case, if there is one."""
    if label in existing:
        return None  # the class itself: saving to it is fine, even beside a twin made earlier
    folded = label.casefold()
    return next((name for name in existing if name.casefold() == folded), None)


def _refuse_case_twin(label: str, twin: str) -> None:
    raise InvalidLabelError(
        f"label {label!r} differs only by case from the existing class {twin!r}; "
        f"use {twin!r} or a different name"
    )


def resolve_label(root: str | os.PathLike, label: object) -> str:
    """Validate a label for saving into `root`: an existing class or a truly new one.

    A label that differs only by case from an existing class is refused, since 'Circle' and
    'circle' would become two classes that look like one (and one folder on some file systems).
    Where such twins exist on disk already (made by hand), each of them still takes saves.
    """
    label = validate_label(label)
    twin = _case_twin(label, _all_class_names(root))
    if twin is not None:
        _refuse_case_twin(label, twin)
    return label


def validate_split(split: str) -> str:
    if split not in SPLIT_CHOICES:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLIT_CHOICES)}; got {split!r}")
    return split


# --- listing ------------------------------------------------------------------------------------
#
# Only regular files are ever opened: a named pipe would block the reader forever. Anything that
# is neither a folder nor a regular file (pipes, sockets, devices, links that loop or dangle),
# and every folder that cannot be read, is skipped; listings given a `problems` list name it
# there, as loading names files that do not decode.


def _entries(folder: Path, problems: list | None = None) -> list[os.DirEntry]:
    """The visible entries of a folder, without hidden or operating-system names, and without
    names that are not text (bytes that are not UTF-8: no page, label or message can show
    them); those are named by their folder and their bytes."""
    try:
        with os.scandir(folder) as listing:
            entries = [
                entry
                for entry in listing
                if not entry.name.startswith(".") and entry.name not in SYSTEM_NAMES
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        if problems is not None:
            problems.append((Path(folder), f"folder cannot be read ({_reason(error)}), skipped"))
        return []
    readable = [entry for entry in entries if _is_text(entry.name)]
    if len(readable) < len(entries) and problems is not None:
        for entry in entries:
            if not _is_text(entry.name):
                problems.append(
                    (
                        Path(folder),
                        f"{os.fsencode(entry.name)!r} skipped: its name is not valid UTF-8 "
                        "text; rename it",
                    )
                )
    return readable


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _kind(entry: os.DirEntry) -> str:
    """'dir', 'file' (a regular file), or why the entry is neither (a reason for a problem)."""
    try:
        if not entry.is_symlink():  # the folder listing's own type: no stat() per file
            if entry.is_file(follow_symlinks=False):
                return "file"
            if entry.is_dir(follow_symlinks=False):
                return "dir"
        mode = entry.stat().st_mode  # follows symbolic links, as listing a folder does
    except OSError as error:
        if entry.is_symlink():
            return f"a symbolic link that loops or points nowhere ({_reason(error)})"
        return f"cannot be read ({_reason(error)})"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return not_a_file(mode)


def _class_folders_in(folder: Path, problems: list | None = None) -> dict[str, list[Path]]:
    """{class name (NFC): [its folders]} directly inside `folder` (normally one folder each; two
    when a name exists in both Unicode forms, as folders made by macOS and by Linux)."""
    found: dict[str, list[Path]] = {}
    for entry in _entries(folder, problems):
        kind = _kind(entry)
        if kind == "dir":
            found.setdefault(_nfc(entry.name), []).append(Path(entry.path))
        elif kind != "file" and problems is not None:
            problems.append((Path(entry.path), kind))
    return found


def _files_of(folders: list[Path], problems: list | None = None) -> list[Path]:
    """The regular files in class folders, sorted by name (for our names: oldest first)."""
    files = []
    for folder in folders:
        for entry in _entries(folder, problems):
            kind = _kind(entry)
            if kind == "file":
                files.append(Path(entry.path))
            elif kind != "dir" and problems is not None:  # a subfolder is not read, as before
                problems.append((Path(entry.path), kind))
    files = _without_strokes(files)
    return sorted(files, key=lambda path: (path.name, str(path)))


def _without_strokes(files: list[Path]) -> list[Path]:
    """The files, less the strokes kept beside drawings (<name>.json next to <name>.png,
    shapecnn.strokes): part of their drawing, not files of their own. A .json without its
    drawing stays listed, so it is named as a file training skips."""
    if not any(path.suffix == ".json" for path in files):
        return files
    drawings = {path.with_suffix("") for path in files if path.suffix == ".png"}
    return [p for p in files if p.suffix != ".json" or p.with_suffix("") not in drawings]


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _all_class_names(root: str | os.PathLike) -> set[str]:
    """Every class folder name in train or test, with images or not (NFC)."""
    return {name for split in SPLITS for name in _class_folders_in(Path(root) / split)}


def list_classes(root: str | os.PathLike) -> list[str]:
    """The class names, sorted as Keras sorts them: every class folder in train or test that
    holds at least one image. An emptied class folder is not a class, so it never blocks
    training and never shows as a button."""
    return sorted(count_images(root))


def list_class_folders(folder: str | os.PathLike, with_images: bool = False) -> list[str]:
    """The sorted names (NFC) of the class folders directly inside `folder` (with_images: only
    those holding at least one image)."""
    folders = _class_folders_in(Path(folder))
    if with_images:
        folders = {
            name: found
            for name, found in folders.items()
            if any(_is_image_name(path) for path in _files_of(found))
        }
    return sorted(folders)


def list_files(root: str | os.PathLike, split: str, label: str) -> list[Path]:
    """Every regular visible file in one class folder of one split, drawings or not, sorted."""
    folders = _class_folders_in(Path(root) / split).get(_nfc(label), [])
    return _files_of(folders)


def list_images(root: str | os.PathLike, split: str, label: str) -> list[Path]:
    """The image files of one class folder of one split, sorted by name (for our names: oldest
    first). Judged by the name alone, as Keras does; loading names the ones that do not decode."""
    return [p for p in list_files(root, split, label) if _is_image_name(p)]


def count_images(root: str | os.PathLike) -> dict[str, dict[str, int]]:
    """{class: {"train": n, "test": n}} from the folder listing alone; nothing is decoded.

    Classes whose folders hold no image in either split are left out (see list_classes)."""
    counts: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        for label, folders in _class_folders_in(Path(root) / split).items():
            n = sum(_image_count(folder) for folder in folders)
            counts.setdefault(label, {name: 0 for name in SPLITS})[split] += n
    return {label: counts[label] for label in sorted(counts) if sum(counts[label].values())}


# A class folder's image count by the folder's (device, inode, mtime, ctime): adding, removing
# or renaming an entry changes the folder's mtime, a change of its permissions its ctime, so an
# unchanged folder is not listed again (a page run counts every class; 3,000 drawings took 25 ms
# to list, benchmarks/RESULTS.md "listing"). As git does with its index, a count is kept only
# when the folder last changed RACY_NS before the listing: a file created in the same tick of
# the file system's clock as an earlier one leaves the mtime as it was. Folders holding symbolic
# links are never kept (a link's target can change without the folder).
_COUNTS: dict[str, tuple[tuple[int, int, int, int], int]] = {}
RACY_NS = 2_000_000_000
MAX_COUNTED_FOLDERS = 10_000


def _image_count(folder: Path) -> int:
    """The image files (by name) among the regular files of one class folder."""
    try:
        info = os.stat(folder)
    except OSError:
        info = None
    version = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns) if info else None
    cached = _COUNTS.get(str(folder))
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    entries = _entries(folder)
    count = sum(
        1 for entry in entries if _is_image_name(Path(entry.name)) and _kind(entry) == "file"
    )
    settled = time.time_ns() - max(version[2], version[3]) > RACY_NS if version else False
    if settled and not any(entry.is_symlink() for entry in entries):
        if len(_COUNTS) >= MAX_COUNTED_FOLDERS:
            _COUNTS.clear()
        _COUNTS[str(folder)] = (version, count)
    return count


# --- the dataset lock ---------------------------------------------------------------------------

_held = threading.local()


@contextlib.contextmanager
def dataset_lock(root: str | os.PathLike):
    """Hold the dataset's lock (flock on the root folder itself, so no lock file appears in it)
    while class folders are created, renamed or deleted and imports are published; re-entrant
    within one thread. Where the file system cannot lock, writes go ahead unlocked.
    """
    root = Path(root)
    key = os.path.abspath(root)
    held = getattr(_held, "roots", None)
    if held is None:
        held = _held.roots = set()
    if key in held:
        yield
        return
    with _disk_errors(f"could not create {root}"):
        root.mkdir(parents=True, exist_ok=True)
    descriptor = None
    try:
        descriptor = _open_folder(root)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    except OSError:
        if descriptor is not None:
            os.close(descriptor)
        descriptor = None
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        if descriptor is not None:
            os.close(descriptor)  # releases the lock


def _open_folder(folder: Path) -> int:
    """A descriptor of the folder itself, to lock (OSError where locks or such opens are not
    available, which every caller takes as "no lock")."""
    if fcntl is None:
        raise OSError(errno.ENOTSUP, "no flock on this system", str(folder))
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


@contextlib.contextmanager
def _writing(root: str | os.PathLike):
    """The dataset lock, after finishing or undoing what a crashed writer left."""
    with dataset_lock(root):
        _recover(Path(root))
        yield


# --- writing ------------------------------------------------------------------------------------

# link() is refused on file systems without hard links (FAT, exFAT, some network shares).
_NO_LINKS = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


@contextlib.contextmanager
def _disk_errors(outcome: str):
    """Turn an OSError from the disk into one StorageError line that says what happened."""
    try:
        yield
    except ShapeCNNError:
        raise
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        if error.errno in _DISK_FULL:
            problem = f"the disk is full{where}"
            advice = "free some space and try again"
        elif error.errno == errno.EROFS:
            problem, advice = f"the disk is read-only{where}", "use a writable folder"
        else:
            problem, advice = f"{_reason(error)}{where}", "check the folder and try again"
        raise StorageError(f"{problem}: {outcome}; {advice}") from None


def _unique_name() -> str:
    # Time first so names sort oldest first; random part so two processes saving in the same
    # microsecond still get different names.
    return f"{datetime.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.png"


def _publish(source: Path, folder: Path, before=None) -> tuple[Path, bool]:
    """Give the complete file `source` a fresh unique name in `folder`, never replacing a file.

    A hard link where the file system has them (link() fails if the name exists), else an
    exclusive create of the name (O_EXCL) and a rename onto it. Returns (name, whether `source`
    is still there). `before(name)` is called before each attempt (for the import log).
    """
    while True:
        final = folder / _unique_name()
        if before is not None:
            before(final)
        try:
            return final, _claim(source, final)
        except FileExistsError:
            continue


def _claim(source: Path, final: Path) -> bool:
    """Make the name `final` the file `source`, never replacing a file there (FileExistsError).

    A hard link where the file system has them (returns True: `source` is still there), else an
    exclusive create of the name (O_EXCL) and a rename onto it (returns False)."""
    try:
        os.link(source, final)
        return True
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
    os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    try:
        os.replace(source, final)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return False


def _move_file(source: Path, target: Path) -> None:
    """Move a file to the name `target`, never replacing a file there (FileExistsError)."""
    if _claim(source, target):
        source.unlink()


def _write_atomically(folder: Path, data: bytes) -> Path:
    """Write a new file into `folder` via a hidden temporary file, never overwriting anything."""
    temp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}.png"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final, _ = _publish(temp, folder)
    finally:
        temp.unlink(missing_ok=True)
    return final


def _class_folder(root: Path, split: str, label: str, created=None) -> Path:
    """The folder of `label` in `split`, created if needed (call under the dataset lock).

    An existing folder of the same name in another Unicode form is used; a new folder is refused
    when it would be a case twin of an existing class."""
    folders = _class_folders_in(root / split).get(label)
    if folders:
        return folders[0]
    twin = _case_twin(label, _all_class_names(root))
    if twin is not None:
        _refuse_case_twin(label, twin)
    folder = root / split / label
    if created is not None:
        created(folder)  # told before the folder exists (the import log)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _as_storable_image(drawing) -> Image.Image:
    """A drawing as it is stored: transparency composited over white, grayscale.

    The model sees only luminance, and a grayscale PNG is about a third of an RGB one on disk.
    """
    paper = 1.0 - to_ink(drawing)
    return Image.fromarray(np.round(paper * 255).astype(np.uint8), mode="L")


# PNG's optimize= halves a canvas drawing on disk, but costs 70 ms on a 1024 px import.
_OPTIMIZE_PIXELS = 512 * 512


def _png_bytes(image: Image.Image, drawn_by: str | None = None) -> bytes:
    buffer = io.BytesIO()
    info = None
    if drawn_by:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text(DRAWN_BY_KEY, drawn_by)  # iTXt when not Latin-1; before the pixels
    small = image.width * image.height <= _OPTIMIZE_PIXELS
    image.save(buffer, format="PNG", optimize=small, pnginfo=info)
    return buffer.getvalue()


def validate_drawn_by(name: object) -> str | None:
    """A drawer's name as stored (NFC, outer spaces removed), or None for no name."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidLabelError(f"drawn_by must be text, got {type(name).__name__}")
    name = _nfc(name).strip()
    if not name:
        return None
    if len(name) > MAX_DRAWN_BY_LENGTH or not name.isprintable():
        raise InvalidLabelError(
            f"drawn_by must be 1 to {MAX_DRAWN_BY_LENGTH} printable characters; got {_short(name)}"
        )
    return name


def drawn_by_of(source) -> str | None:
    """Who drew a PNG (a path or its bytes), from its drawn_by text chunk; None when it
    does not say (or is not a PNG). Reads the header chunks only, never the pixels."""
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = io.BytesIO(source)
        else:
            source = open_regular_file(source)
        with source, Image.open(source, formats=["PNG"]) as image:
            return validate_drawn_by(image.info.get(DRAWN_BY_KEY))
    except (ShapeCNNError, OSError, SyntaxError, ValueError):
        return None


def save_image(
    root: str | os.PathLike,
    split: str,
    label: str,
    image: Image.Image,
    drawn_by: str | None = None,
) -> Path:
    """Store a PIL image as a PNG in root/split/label/ atomically, under a unique name.

    Low-level: the label is validated, the image is not checked for ink (see save_drawing).
    """
    if split not in SPLITS:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    label = validate_label(label)
    root = Path(root)
    drawn_by = validate_drawn_by(drawn_by)
    data = _png_bytes(image, drawn_by)  # before the lock: encoding is most of a save
    created: list[Path] = []
    with _disk_errors("the drawing was not saved"), _writing(root):
        try:
            return _write_atomically(_class_folder(root, split, label, created.append), data)
        except BaseException:
            for folder in created:  # a failed first save leaves no empty class folder
                _remove_if_empty(folder)
            raise


def split_for_next(train: int, test: int) -> str:
    """The one-in-four rule (as the tutorial's 15/5): where a class's next drawing goes, given
    how many it has in each split."""
    return "test" if (test + 1) * 4 <= train + test + 1 else "train"


def choose_split(root: str | os.PathLike, label: str) -> str:
    """'test' for about one drawing in four of a class, else 'train'."""
    counts = {split: len(list_images(root, split, label)) for split in SPLITS}  # this class only
    return split_for_next(counts["train"], counts["test"])


def save_drawing(
    root: str | os.PathLike,
    label: str,
    drawing,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
    *,
    drawn_by: str | None = None,
    strokes=None,
) -> Path:
    """Save one drawing (canvas array, array, PIL image or file) as a sample of `label`.

    A blank drawing is refused (BlankDrawingError), as is a bad label; nothing is written then.
    `drawn_by` names who drew it (kept in the PNG). `strokes` ([xs, ys] pairs or (N, 2)
    arrays, in the drawing's pixels) are kept beside the PNG as <name>.json
    (shapecnn.strokes), written atomically: the drawing is saved with them or not at all.
    """
    label = resolve_label(root, label)
    split = validate_split(split)
    drawn_by = validate_drawn_by(drawn_by)
    ink = to_ink(drawing)
    ink_box(ink, config.ink_threshold)  # raises BlankDrawingError
    kept = None
    if strokes is not None:
        from shapecnn import strokes as stroke_files

        kept = stroke_files.as_strokes(strokes, stroke_files.canvas_of(ink.shape))
    image = _as_storable_image(drawing)
    if split == "auto":
        split = choose_split(root, label)
    if kept is None:
        return save_image(root, split, label, image, drawn_by)
    with dataset_lock(root):  # nobody moves the drawing before its strokes are beside it
        path = save_image(root, split, label, image, drawn_by)
        with _disk_errors("the drawing was not saved"):
            try:
                _write_strokes(path, kept.to_json().encode())
            except BaseException:
                path.unlink(missing_ok=True)
                _remove_if_empty(path.parent)
                raise
    return path


def check_drawing(
    root: str | os.PathLike,
    label: str,
    drawing,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> str:
    """What save_drawing would refuse (a bad label, a bad split, a blank drawing), checked
    without writing anything; returns the label as it would be saved."""
    label = resolve_label(root, label)
    validate_split(split)
    ink_box(to_ink(drawing), config.ink_threshold)  # raises BlankDrawingError
    return label


def _write_strokes(drawing: Path, data: bytes) -> Path:
    """<drawing>.json beside the drawing, via a hidden temporary file and a rename."""
    target = drawing.with_suffix(".json")
    temp = drawing.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}.json"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)  # the name is the new drawing's own: nothing is replaced
    finally:
        temp.unlink(missing_ok=True)
    return target


# --- crash-safe work folders --------------------------------------------------------------------
#
# An import stages its files in root/.staging-<id>/, then publishes them all under the dataset
# lock, logging each name before it is made; deleting and renaming a class work in
# root/.trash-<id>/ and root/.rename-<id>/. Each work folder is locked (flock on the folder) for
# as long as its process lives, so the next writer can tell a crashed one from a running one: a
# crashed import is undone (unless it had finished publishing), a crashed delete or rename is
# finished.

_LOG = "published.log"
_DONE = "COMMITTED"
_PLAN = "plan.json"


class _WorkFolder:
    def __init__(self, root: Path, prefix: str):
        self.root = root
        self.path = root / f"{prefix}{uuid.uuid4().hex}"
        self._owner = None

    def __enter__(self):
        # Made and locked under the dataset lock, which recovery holds: it never finds this
        # folder in the instant between the two and takes it for a crashed writer's.
        with dataset_lock(self.root):
            self.path.mkdir()
            try:
                self._owner = _open_folder(self.path)
                fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass  # no locks here: the folder's age tells a crashed owner instead
        return self

    def __exit__(self, *exc_info):
        # Gone on success; after an error only what the next writer must finish is left.
        if exc_info[0] is None or not (self.path / _PLAN).exists():
            shutil.rmtree(self.path, ignore_errors=True)
        if self._owner is not None:
            os.close(self._owner)


def _owner_alive(folder: Path) -> bool:
    try:
        descriptor = _open_folder(folder)
    except OSError:
        descriptor = None
    try:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
    except BlockingIOError:
        return True
    except OSError:
        pass
    finally:
        if descriptor is not None:
            os.close(descriptor)
    try:  # no locks on this file system: young means maybe running
        return time.time() - folder.stat().st_mtime < STALE_TEMP_SECONDS
    except OSError:
        return False


class _Staging(_WorkFolder):
    """The files of one import: written into a hidden folder, then published together."""

    def __init__(self, root: Path):
        super().__init__(root, STAGING_PREFIX)
        self.files: list[tuple[Path, str, str]] = []

    def add(self, split: str, label: str, data: bytes) -> None:
        staged = self.path / f"{len(self.files):06d}.png"
        with open(staged, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.files.append((staged, split, label))

    def publish(self) -> list[Path]:
        """Give every staged file its name in the dataset: all of them, or (after an error or a
        crash, undone by the next writer) none."""
        published = []
        with _writing(self.root), open(self.path / _LOG, "a", encoding="utf-8") as log:

            def note(*entry) -> None:
                log.write(json.dumps([str(p.relative_to(self.root)) for p in entry]) + "\n")
                log.flush()  # in the kernel's hands: survives kill -9

            try:
                for staged, split, label in self.files:
                    folder = _class_folder(self.root, split, label, created=note)
                    final, _ = _publish(staged, folder, before=lambda f, s=staged: note(s, f))
                    published.append(final)
                for folder in {path.parent for path in published}:
                    _sync_folder(folder)  # the new names survive a power cut too
                os.close(os.open(self.path / _DONE, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except BaseException:
                log.close()
                _undo_publish(self.root, self.path)
                raise
        return published


def _sync_folder(folder: Path) -> None:
    descriptor = _open_folder(folder)
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder; the files themselves are synced
    finally:
        os.close(descriptor)


def _undo_publish(root: Path, staging: Path) -> None:
    """Remove what an unfinished publish made, newest first: its files, then its new folders."""
    try:
        lines = (staging / _LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in reversed(lines):
        try:
            entry = [root / part for part in json.loads(line)]
        except (ValueError, TypeError):
            continue  # the last line, cut short by the crash: nothing was made after it
        if len(entry) == 1:
            with contextlib.suppress(OSError):
                entry[0].rmdir()  # only if empty
            continue
        staged, final = entry
        try:
            ours = (
                not staged.exists()  # renamed into place
                or os.path.samefile(staged, final)  # linked
                or final.stat().st_size == 0  # reserved, not yet renamed onto
            )
            if ours:
                final.unlink()
        except OSError:
            pass


def _recover(root: Path) -> int:
    """Finish or undo the work a crashed writer left in `root` (call under the dataset lock)."""
    try:
        with os.scandir(root) as entries:
            names = [
                e.name
                for e in entries
                if e.name.startswith((STAGING_PREFIX, TRASH_PREFIX, RENAME_PREFIX, MOVE_PREFIX))
            ]
    except OSError:
        return 0
    recovered = 0
    for name in names:
        folder = root / name
        try:
            if _owner_alive(folder):
                continue
            if name.startswith(STAGING_PREFIX):
                if not (folder / _DONE).exists():
                    _undo_publish(root, folder)
            elif (folder / _PLAN).exists():
                plan = json.loads((folder / _PLAN).read_text(encoding="utf-8"))
                if name.startswith(TRASH_PREFIX):
                    _move_class_into_trash(root, plan["label"], folder)
                elif name.startswith(MOVE_PREFIX):
                    _finish_moves(root, plan)
                else:
                    _move_class(root, plan["old"], plan["new"])
            shutil.rmtree(folder)
            recovered += 1
        except (OSError, ValueError, KeyError, TypeError):
            continue  # tried again by the next writer
    return recovered


def _write_plan(work: _WorkFolder, plan: dict) -> None:
    temp = work.path / f"{_PLAN}.tmp"
    temp.write_text(json.dumps(plan), encoding="utf-8")
    os.replace(temp, work.path / _PLAN)


def import_images(
    root: str | os.PathLike,
    label: str,
    paths: list[str | os.PathLike],
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
    drawn_by: str | None = None,
) -> list[Path]:
    """Import image files as drawings of `label`: all of them, or none.

    Every file is checked first (readable, an image, not blank); if any is refused the error
    names each refused file and nothing is written. The drawings are staged, then published
    together: killed or out of disk space half way, the import leaves nothing behind.
    """
    label = resolve_label(root, label)
    split = validate_split(split)
    drawn_by = validate_drawn_by(drawn_by)
    if not paths:
        raise ShapeCNNError("no image files given: name at least one IMAGE to import")
    drawings, problems = [], []
    for path in paths:
        try:
            image = open_image(path)
            ink_box(to_ink(image), config.ink_threshold)
            drawings.append(_png_bytes(_as_storable_image(image), drawn_by or drawn_by_of(path)))
        except ShapeCNNError as error:
            problems.append(f"{path}: {error}" if str(path) not in str(error) else str(error))
    if problems:
        raise InvalidImageError(
            f"refused {len(problems)} of {len(paths)} files, nothing imported: "
            + "; ".join(problems)
        )
    root = Path(root)
    next_split = _auto_splitter(root, split)
    with _disk_errors(f"nothing imported (0 of {len(drawings)} files)"), _Staging(root) as staging:
        for data in drawings:
            staging.add(next_split(label), label, data)
        return staging.publish()


# --- uploads ------------------------------------------------------------------------------------

# One upload (all its files together). The page's uploader has the same limit
# (server.maxUploadSize in .streamlit/config.toml), so this guards the Python API too.
_MB = 1024 * 1024  # as Streamlit counts megabytes
MAX_UPLOAD_BYTES = 20 * _MB
# A zip can claim far more than it weighs ("zip bomb"): limits on what it may expand to.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 200 * _MB
MAX_ENTRY_BYTES = 20 * _MB
# An import may add at most this many classes: a zip of 3,000 folders would make 3,000 buttons.
MAX_NEW_CLASSES = 50


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
        chosen = split_for_next(c["train"], c["test"])
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


def _check_labels(root: str | os.PathLike, labels: list[str]) -> dict[str, str]:
    """Validate the labels of an upload together, in one pass over them and one listing of the
    dataset: each one, no two differing only by case, at most MAX_NEW_CLASSES new classes.
    Returns {label as given: label as stored}."""
    existing = _all_class_names(root)
    new = {_nfc(label) for label in labels if isinstance(label, str)} - existing
    if len(new) > MAX_NEW_CLASSES:
        raise InvalidLabelError(
            f"the upload would create {len(new):,} new classes; at most {MAX_NEW_CLASSES} per "
            "import, nothing imported"
        )
    folded: dict[str, str] = {}
    for name in sorted(existing):
        folded.setdefault(name.casefold(), name)
    problems, mapping = [], {}
    for raw in labels:
        try:
            label = validate_label(raw)
        except InvalidLabelError as error:
            problems.append(str(error))
            continue
        other = folded.setdefault(label.casefold(), label)
        if other != label and label not in existing:
            if other in existing:
                problems.append(f"{label!r} differs only by case from the existing class {other!r}")
            else:
                problems.append(f"class folders {other!r} and {label!r} differ only by case")
            continue
        mapping[raw] = label
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise InvalidLabelError("nothing imported: " + "; ".join(problems[:3]) + more)
    return mapping


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
        if any(part.startswith(".") or part in SYSTEM_NAMES for part in (*folders, filename)):
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
    else from `split`. Every drawing is checked (an image, not blank, not too big) and staged;
    files that are not usable drawings are skipped and listed in the report. The staged
    drawings are then published together under new unique names: killed, interrupted or out of
    disk space, the import leaves all of them or none (StorageError says which disk problem).

    Refused as a whole, with nothing written: more than MAX_UPLOAD_BYTES, a bad or clashing
    class name, more than MAX_NEW_CLASSES new classes, zip entries with '..', absolute paths or
    drive letters, and zips that would expand beyond MAX_ZIP_ENTRIES files or MAX_ZIP_BYTES.
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
    labels = _check_labels(root, list(dict.fromkeys(labels)))
    next_split = _auto_splitter(root, split)
    root = Path(root)
    outcome = "nothing imported"
    with _disk_errors(outcome), _Staging(root) as staging:

        def stage(shown: str, raw_label: str, entry_split: str | None, read) -> None:
            try:
                raw = read()
                image = _read_drawing(shown, raw, config)
            except (ShapeCNNError, zipfile.BadZipFile, RuntimeError, OSError) as error:
                # RuntimeError: an encrypted entry; BadZipFile: a damaged one.
                report.skipped.append((shown, str(error).removeprefix(f"{shown}: ")))
                return
            entry_label = labels[raw_label]
            target = entry_split or next_split(entry_label)
            staging.add(target, entry_label, _png_bytes(image, drawn_by_of(raw)))

        for name, data in images:
            stage(name, label, None, lambda data=data: data)
        for name, archive, plan in plans:
            with archive:
                for info, entry_label, entry_split in plan:
                    shown = f"{name}/{info.filename}"
                    read = functools.partial(_read_entry, archive, info)
                    stage(shown, entry_label, entry_split, read)
        report.saved = staging.publish()
    return report


def import_zip(
    root: str | os.PathLike,
    source: str | os.PathLike | bytes,
    split: str = "auto",
    config: PreprocessConfig = DEFAULT_CONFIG,
) -> ImportReport:
    """Import a zip of class folders (a path or its bytes); see import_uploads."""
    if isinstance(source, (str, os.PathLike)):
        with open_regular_file(source) as handle:  # a named pipe is refused, not waited on
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_UPLOAD_BYTES:
                raise InvalidImageError(
                    f"{source} is {size / _MB:.1f} MB; at most {MAX_UPLOAD_BYTES // _MB} MB at "
                    "once, nothing imported"
                )
            name, data = Path(source).name, handle.read(MAX_UPLOAD_BYTES + 1)
    else:
        name, data = "upload.zip", bytes(source)
    return import_uploads(root, [(name, data)], split=split, config=config)


# --- classes and drawings -----------------------------------------------------------------------


def _no_class(root: Path, label: str) -> DatasetError:
    classes = list_classes(root)
    shown = ", ".join(repr(name) for name in classes[:20]) or "none"
    return DatasetError(f"no class {label!r} in {root}; its classes are: {shown}")


def _remove_if_empty(folder: Path) -> None:
    """Remove a class folder left without files, so an emptied class goes with its button."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # refuses a folder that still holds anything, hidden files included


def same_folder(first: str | os.PathLike, second: str | os.PathLike) -> bool:
    """Whether two paths name one folder (through links too; by absolute path where one of
    them does not exist yet)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.abspath(first) == os.path.abspath(second)


def delete_class(root: str | os.PathLike, label: str) -> int:
    """Delete a class and every drawing of it, in both splits; returns the number of images.

    Its folders are first renamed into one hidden trash folder (a crash after that is finished
    by the next write), then removed."""
    label = validate_label(label)
    root = Path(root)
    with _disk_errors(f"the class {label!r} was not deleted"), _writing(root):
        folders = [f for split in SPLITS for f in _class_folders_in(root / split).get(label, [])]
        if not folders:
            raise _no_class(root, label)
        images = sum(1 for path in _files_of(folders) if _is_image_name(path))
        with _WorkFolder(root, TRASH_PREFIX) as trash:
            _write_plan(trash, {"label": label})
            _move_class_into_trash(root, label, trash.path)
    return images


def _move_class_into_trash(root: Path, label: str, trash: Path) -> None:
    for split in SPLITS:
        for index, folder in enumerate(_class_folders_in(root / split).get(label, [])):
            os.rename(folder, trash / f"{split}-{index}-{uuid.uuid4().hex[:8]}")


def rename_class(root: str | os.PathLike, old: str, new: str) -> str:
    """Rename a class in both splits, keeping its drawings; returns the new name (NFC).

    Refused: a new name that is not a valid label, that another class has, or that differs
    only by case from another class (changing the case of the class's own name is fine)."""
    old, new = validate_label(old), validate_label(new)
    root = Path(root)
    with _disk_errors(f"the class {old!r} was not renamed"), _writing(root):
        names = _all_class_names(root)
        if old not in names:
            raise _no_class(root, old)
        if new == old:
            return new
        if new in names:
            raise InvalidLabelError(
                f"cannot rename {old!r} to {new!r}: a class {new!r} exists already; "
                "choose another name, or move the drawings one by one"
            )
        twin = _case_twin(new, names - {old})
        if twin is not None:
            raise InvalidLabelError(
                f"cannot rename {old!r} to {new!r}: it differs only by case from the class "
                f"{twin!r}; choose another name"
            )
        with _WorkFolder(root, RENAME_PREFIX) as journal:
            _write_plan(journal, {"old": old, "new": new})
            _move_class(root, old, new)
    return new


def _move_class(root: Path, old: str, new: str) -> None:
    """Rename old's folders to new in each split (idempotent: a crash half way is finished by
    calling it again)."""
    for split in SPLITS:
        target = root / split / new
        for folder in _class_folders_in(root / split).get(old, []):
            if not target.exists() or os.path.samefile(folder, target):
                os.rename(folder, target)  # also changes only the case where names fold
                continue
            # A second folder of the same name in another Unicode form: merge it in.
            for entry in _entries(folder):
                with contextlib.suppress(FileExistsError):
                    _publish(Path(entry.path), target)
                Path(entry.path).unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)


def delete_image(root: str | os.PathLike, path: str | os.PathLike) -> None:
    """Delete one drawing of the dataset (refusing paths outside it); a class folder left
    without files goes too."""
    path = _inside_dataset(root, path)
    with _disk_errors(f"{path} was not deleted"), _writing(Path(root)):
        path.unlink()
        path.with_suffix(".json").unlink(missing_ok=True)  # its strokes, if kept
        _remove_if_empty(path.parent)


def move_image(root: str | os.PathLike, path: str | os.PathLike, split: str, label: str) -> Path:
    """Move one drawing to another split and/or class, under a fresh unique name; a class
    folder left without files goes."""
    source = _inside_dataset(root, path)
    label = resolve_label(root, label)
    if split not in SPLITS:
        raise ShapeCNNError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    root = Path(root)
    with _disk_errors(f"{source} was not moved"), _writing(root):
        target, linked = _publish(source, _class_folder(root, split, label))
        if source.with_suffix(".json").is_file():  # its strokes go with it
            os.replace(source.with_suffix(".json"), target.with_suffix(".json"))
        if linked:
            source.unlink()
        _remove_if_empty(source.parent)
    return target


# --- the bin: deleted drawings, kept a while so that a delete can be undone --------------------
#
# Deleting moves drawings (with their strokes) into one new bin entry; undoing moves the entry's
# files back. Either moves every file or none: the moves are written down first in a work folder
# (root/.move-<id>/plan.json), an error half way moves the files already moved back, and a crash
# half way is finished by the next write (_recover). A restored file never replaces a file.

_BIN_ENTRY = re.compile(r"\d{8}-\d{6}-\d{6}-[0-9a-f]{8}")


@dataclass(frozen=True)
class Deleted:
    """What one delete put in the bin: its entry (to undo it) and the drawings it held."""

    entry: str
    paths: list[Path]


def delete_images(root: str | os.PathLike, paths: list[str | os.PathLike]) -> Deleted:
    """Delete drawings of the dataset into its bin, all of them or none; restore_deleted undoes
    it. Refused with nothing moved: a path outside the dataset, a file that is gone. Class
    folders left without files go, as with every delete."""
    if not paths:
        raise ShapeCNNError("no drawings given: name at least one drawing to delete")
    root = Path(root).resolve()
    sources = [_inside_dataset(root, path) for path in paths]
    entry = datetime.now().strftime("%Y%m%d-%H%M%S-%f") + "-" + uuid.uuid4().hex[:8]
    bin_entry = root / BIN_FOLDER / entry
    shown = f"{len(sources)} drawing{'s' if len(sources) != 1 else ''}"
    with _disk_errors(f"nothing deleted (0 of {shown})"), _writing(root):
        gone = [path for path in sources if not path.is_file()]
        if gone:
            raise DatasetError(
                f"{len(gone)} of the {shown} no longer exist ({gone[0].name}); nothing deleted"
            )
        moves = []
        for source in dict.fromkeys(sources):  # each once, in order
            moves.append((source, bin_entry / source.relative_to(root)))
            strokes = source.with_suffix(".json")
            if strokes != source and strokes.is_file():
                moves.append((strokes, bin_entry / strokes.relative_to(root)))
        emptied = list(dict.fromkeys(source.parent for source in sources))
        try:
            for _, target in moves:
                target.parent.mkdir(parents=True, exist_ok=True)
            _move_files(root, moves, emptied)
        except BaseException:
            _remove_empty_folders(bin_entry)  # only what holds nothing: the moves were undone
            raise
    return Deleted(entry, [target for _, target in moves if _is_image_name(target)])


def restore_deleted(root: str | os.PathLike, entry: str) -> list[Path]:
    """Put the drawings of one bin entry back where they were, all of them or none; returns
    their paths. Refused with nothing moved: an entry that is gone (cleaned or restored
    already), a drawing whose name is taken again, a class folder that would now be a case
    twin of another class."""
    root = Path(root).resolve()
    if not isinstance(entry, str) or not _BIN_ENTRY.fullmatch(entry):
        raise ShapeCNNError(f"not an entry of the bin: {entry!r}")
    bin_entry = root / BIN_FOLDER / entry
    with _disk_errors("nothing restored"), _writing(root):
        files = sorted(_files_below(bin_entry))
        if not files:
            raise DatasetError(
                "nothing to undo: the deleted drawings are no longer in the bin "
                f"({bin_entry.relative_to(root)})"
            )
        moves, folders, made = [], {}, []
        try:
            for source in files:
                split, folder_name, name = source.relative_to(bin_entry).parts
                key = (split, _nfc(folder_name))
                if key not in folders:
                    folders[key] = _class_folder(root, split, _nfc(folder_name), made.append)
                target = folders[key] / name
                if target.exists() or target.is_symlink():
                    raise DatasetError(
                        f"cannot undo: {target.relative_to(root)} exists again; nothing restored"
                    )
                moves.append((source, target))
            _move_files(root, moves, _folders_deepest_first(bin_entry))
        except BaseException:
            for folder in made:
                _remove_if_empty(folder)
            raise
    return [target for _, target in moves if _is_image_name(target)]


def _files_below(bin_entry: Path) -> list[Path]:
    """The files of a bin entry, each at <split>/<class folder>/<name>."""
    found = []
    for folder, _, names in os.walk(bin_entry):
        for name in names:
            path = Path(folder, name)
            if len(path.relative_to(bin_entry).parts) == 3 and path.parts[-3] in SPLITS:
                found.append(path)
    return found


def _folders_deepest_first(folder: Path) -> list[Path]:
    return [Path(path) for path, _, _ in os.walk(folder, topdown=False)]


def _remove_empty_folders(folder: Path) -> None:
    """Remove `folder` and the folders inside it that hold nothing; never a file."""
    for path in _folders_deepest_first(folder):
        _remove_if_empty(path)


def _move_files(root: Path, moves: list[tuple[Path, Path]], emptied: list[Path]) -> None:
    """Move each (source, target) file, every one or none (call under _writing(root)); then
    remove the folders of `emptied` that are left empty."""
    plan = {
        "moves": [[str(s.relative_to(root)), str(t.relative_to(root))] for s, t in moves],
        "emptied": [str(folder.relative_to(root)) for folder in emptied],
    }
    with _WorkFolder(root, MOVE_PREFIX) as work:
        _write_plan(work, plan)
        done = []
        try:
            for source, target in moves:
                _move_file(source, target)
                done.append((source, target))
        except BaseException:
            try:
                for source, target in reversed(done):
                    _move_file(target, source)
                (work.path / _PLAN).unlink()  # undone: nothing for the next writer to finish
            except OSError:
                pass  # the plan stays: the next writer finishes the moves instead
            raise
        for folder in emptied:
            _remove_if_empty(folder)


def _finish_moves(root: Path, plan: dict) -> None:
    """Finish the moves of a plan that a crash interrupted (idempotent)."""
    for source, target in ((root / s, root / t) for s, t in plan["moves"]):
        if not source.exists():
            continue  # moved already
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _move_file(source, target)
        elif os.path.samefile(source, target):
            source.unlink()  # linked, not yet unlinked
        elif target.stat().st_size == 0:
            os.replace(source, target)  # the name reserved, not yet renamed onto
        # else a file that is not this one took the name: it is not replaced
    for folder in plan["emptied"]:
        _remove_if_empty(root / folder)


def _clean_bin(root: Path, older_than: float) -> int:
    """Remove the bin entries older than `older_than` seconds; returns how many."""
    removed = 0
    cutoff = time.time() - older_than
    for entry in _entries_all(root / BIN_FOLDER):
        try:
            old = entry.stat(follow_symlinks=False).st_mtime < cutoff
            if old and _BIN_ENTRY.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
                removed += 1
        except OSError:
            continue  # tried again by the next clean-up
    return removed


def _inside_dataset(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    root, path = Path(root).resolve(), Path(path).resolve()
    if path.parent.parent.parent != root or path.parent.parent.name not in SPLITS:
        raise ShapeCNNError(f"{path} is not a drawing of the dataset {root}")
    return path


# Our drawing names; a 0-byte file of this form is a name reserved by a save that crashed on a
# file system without hard links.
_OUR_NAME = re.compile(r"\d{8}-\d{6}-\d{6}-[0-9a-f]{8}\.png")


def clean_temp_files(
    root: str | os.PathLike,
    older_than: float = STALE_TEMP_SECONDS,
    bin_older_than: float = BIN_KEEP_SECONDS,
) -> int:
    """Remove what crashed saves and imports left (hidden temporary files older than
    `older_than`, unfinished imports, half-done class deletions, renames and deletes) and the
    bin's deleted drawings older than `bin_older_than`; returns how many were removed."""
    root = Path(root)
    if not root.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than
    with dataset_lock(root):
        removed += _recover(root)
        removed += _clean_bin(root, bin_older_than)
        for split in SPLITS:
            for folders in _class_folders_in(root / split).values():
                for folder in folders:
                    for entry in _entries_all(folder):
                        leftover = entry.name.startswith(TEMP_PREFIX) or (
                            _OUR_NAME.fullmatch(entry.name) is not None
                        )
                        try:
                            info = entry.stat(follow_symlinks=False)
                            if not leftover or not stat.S_ISREG(info.st_mode):
                                continue
                            temporary = entry.name.startswith(TEMP_PREFIX) or info.st_size == 0
                            if temporary and info.st_mtime < cutoff:
                                os.unlink(entry.path)
                                removed += 1
                        except FileNotFoundError:
                            pass
    return removed


def _entries_all(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


# --- several datasets ---------------------------------------------------------------------------
#
# Datasets live side by side in one folder (the page's: data/, beside the starter dataset). A new
# one is made whole in a hidden folder there, then renamed into place under that folder's lock:
# it appears complete, with every copied drawing, or not at all.

NEW_DATASET_PREFIX = ".new-dataset-"


def validate_dataset_name(name: object) -> str:
    """Return the name (NFC) if it is a safe dataset folder name, else raise: the rule of labels
    (a dataset name becomes a folder, a model file name and part of the page's address)."""
    name = _validate_name(name, "dataset name")
    if name in SYSTEM_NAMES:
        raise InvalidLabelError(
            f"dataset name {name!r} is a name operating systems keep for themselves; "
            "choose another name"
        )
    return name


def list_datasets(folder: str | os.PathLike) -> list[str]:
    """The names of the datasets directly inside `folder`, sorted: its visible folders that hold
    a train/ or test/ folder, drawings in them or not. Names are as on disk (folder / name is
    the dataset, whatever Unicode form made it)."""
    found = []
    for entry in _entries(Path(folder)):
        if _kind(entry) == "dir" and any((Path(entry.path) / s).is_dir() for s in SPLITS):
            found.append(entry.name)
    return sorted(found)


def create_dataset(
    folder: str | os.PathLike, name: object, source: str | os.PathLike | None = None
) -> Path:
    """Make the dataset `folder`/`name` and return its path: empty (train/ and test/, no class
    yet), or holding a copy of every drawing of the dataset `source` (images and the strokes kept
    beside them, under their own names; the source is only read).

    Refused, with nothing written: a name that is not allowed (validate_dataset_name), one that
    something in `folder` has already, or that differs only by case from it."""
    name = validate_dataset_name(name)
    folder = Path(folder)
    source_root = require_dataset(source) if source is not None else None
    with _disk_errors(f"the dataset {name!r} was not created"), dataset_lock(folder):
        _refuse_taken_name(folder, name)
        _remove_stale_new_datasets(folder)
        with _WorkFolder(folder, NEW_DATASET_PREFIX) as work:
            for split in SPLITS:
                (work.path / split).mkdir()
                if source_root is not None:
                    _copy_split(source_root / split, work.path / split)
                _sync_folder(work.path / split)
            _sync_folder(work.path)
            _refuse_taken_name(folder, name)  # made meanwhile by something that takes no lock
            os.rename(work.path, folder / name)
        _sync_folder(folder)
    return folder / name


def _refuse_taken_name(folder: Path, name: str) -> None:
    taken = {_nfc(entry.name) for entry in _entries(folder)}
    if name in taken:
        raise DatasetError(f"{folder / name} exists already; choose another dataset name")
    twin = _case_twin(name, taken)
    if twin is not None:
        raise InvalidLabelError(
            f"dataset name {name!r} differs only by case from the existing dataset {twin!r} "
            f"in {folder}; "
            f"use {twin!r} or a different name"
        )


def _remove_stale_new_datasets(folder: Path) -> None:
    """Remove what a crash left of a dataset being made (call under the folder's lock)."""
    for entry in _entries_all(folder):
        if entry.name.startswith(NEW_DATASET_PREFIX) and not _owner_alive(Path(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _copy_split(source: Path, target: Path) -> None:
    """Copy the drawings of one split, class by class, each file synced before the rename."""
    for label, folders in _class_folders_in(source).items():
        destination = target / label
        destination.mkdir()
        drawings = [path for path in _files_of(folders) if _is_image_name(path)]
        for path in drawings:
            strokes = path.with_suffix(".json")
            copied = _copy_file(path, destination / path.name)
            if path.suffix == ".png" and strokes.is_file():
                _copy_file(strokes, copied.with_suffix(".json"))
        _sync_folder(destination)


def _copy_file(source: Path, target: Path) -> Path:
    """Copy one regular file (never a pipe: open_regular_file) to a new name; a name taken
    already (two source folders of one class, in two Unicode forms) gets a fresh one."""
    with open_regular_file(source) as reader:
        data = reader.read()
    if target.exists():
        target = target.with_name(_unique_name()).with_suffix(target.suffix)
    with open(target, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return target


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
    cache: dict | None = None,
) -> Samples:
    """Decode and preprocess every drawing of a split, in class order.

    `split=None` reads `root` itself as a folder of class folders. Unreadable, non-image and blank
    files, entries that are not regular files (named pipes, links that loop) and folders that
    cannot be read are skipped, and each one is named in a warning and in `Samples.skipped`.
    `class_names` fixes the label indices (default: the dataset's classes); folders of other
    classes are not read. `cache` (a dict the caller keeps) holds each file's model input by
    version (path, modification time, size): a warm training process decodes only new files.
    """
    folder = Path(root) if split is None else Path(root) / split
    listing_problems: list[tuple[Path, str]] = []
    folders = _class_folders_in(folder, listing_problems)
    if class_names is None:
        class_names = list_classes(root) if split is not None else sorted(folders)
    xs, ys, paths, skipped = [], [], [], []
    for index, label in enumerate(class_names):
        for path in _files_of(folders.get(_nfc(label), []), listing_problems):
            try:
                xs.append(_preprocessed(path, config, cache))
            except ShapeCNNError as error:
                skipped.append((path, str(error).removeprefix(f"{path}: ")))
                continue
            ys.append(index)
            paths.append(path)
    skipped = listing_problems + skipped
    for path, reason in skipped:
        warnings.warn(f"skipped {path}: {reason}", stacklevel=2)
    shape = (0, config.size, config.size, config.channels)
    x = np.stack(xs) if xs else np.zeros(shape, np.float32)
    return Samples(x, np.array(ys, dtype=np.int64), paths, list(class_names), skipped)


def _preprocessed(path: Path, config: PreprocessConfig, cache: dict | None) -> np.ndarray:
    if cache is None:
        return preprocess(path, config)
    try:
        stat = path.stat()
    except OSError:
        return preprocess(path, config)  # says what is wrong with it
    key = (str(path), stat.st_mtime_ns, stat.st_size, config)
    if key not in cache:
        cache[key] = preprocess(path, config)
    return cache[key]


def find_problems(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """Every entry in the dataset's class folders that training would skip, with the reason:
    files that do not decode, entries that are not regular files, folders that cannot be read.

    Each file is decoded once per version (path, inode, mtime, size), so asking again after a
    save costs a listing and one decode of the new file, not a decode of the whole dataset.
    """
    problems: list[tuple[Path, str]] = []
    for split in SPLITS:
        for folders in _class_folders_in(Path(root) / split, problems).values():
            for path in _files_of(folders, problems):
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue  # deleted since the listing: nothing for training to skip
                except OSError as error:
                    problems.append((path, f"cannot be read ({_reason(error)})"))
                    continue
                reason = _problem_of(str(path), info.st_ino, info.st_mtime_ns, info.st_size)
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
