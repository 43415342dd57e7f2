"""A project file: one .zip with a dataset (the Keras layout), its model and the model's card.

    shapecnn-project.json          what it holds: format, classes, counts per split, model name
    dataset/train/<class>/*.png    the drawings, as in the dataset folder (who drew each kept
    dataset/test/<class>/*.png     in its PNG)
    model.keras                    the model file, unchanged
    MODEL_CARD.md                  its card, to read without unpacking anything else

Importing goes through the dataset's own upload import (dataset.import_zip): the same limits
(size, entries, expansion, new classes), the same refusal of unsafe entry names, the same
all-or-nothing staging. The model is checked (a shapecnn model file whose classes are the
dataset's) before anything is written, and moved into place only once the drawings are in.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from shapecnn import dataset
from shapecnn.config import SPLITS
from shapecnn.errors import ShapeCNNError
from shapecnn.model import write_bytes_atomically
from shapecnn.preprocess import open_regular_file

MANIFEST = "shapecnn-project.json"
MODEL_ENTRY = "model.keras"
CARD_ENTRY = "MODEL_CARD.md"
DATA_FOLDER = "dataset"
FORMAT = 1
# A model file in a project may unpack to at most this (the tutorial CNN is about 7 MB).
MAX_MODEL_BYTES = 64 * 1024 * 1024


class ProjectError(ShapeCNNError):
    """A project file that cannot be written or imported as it is."""


@dataclass(frozen=True)
class Project:
    """What a project file holds (or held, once imported)."""

    classes: list[str]
    counts: dict[str, dict[str, int]]
    drawings: int


def export_project(
    data: str | os.PathLike, model: str | os.PathLike, out: str | os.PathLike
) -> Project:
    """Write the dataset at `data` and the model file at `model` into the project `out`."""
    from shapecnn.card import read_card
    from shapecnn.model import read_metadata

    root = dataset.require_dataset(data)
    metadata = read_metadata(model)  # a clear error for a missing or foreign model file
    counts = dataset.count_images(root)
    missing = [name for name in metadata.class_names if name not in counts]
    if missing:
        raise ProjectError(
            f"the model knows classes {root} has no drawings of: {', '.join(missing)}; "
            "export the dataset it was trained on"
        )
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ProjectError(f"project file must end in .zip, got {str(out)!r}")
    buffer = io.BytesIO()
    drawings = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {"format": FORMAT, "classes": list(counts), "counts": counts}
        manifest["model"] = {"file": MODEL_ENTRY, "classes": metadata.class_names}
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        for split in SPLITS:
            for label in counts:
                for path in dataset.list_images(root, split, label):
                    archive.write(path, f"{DATA_FOLDER}/{split}/{label}/{path.name}")
                    drawings += 1
        # Stored, not deflated: a model file is a zip of its own already.
        archive.write(model, MODEL_ENTRY, compress_type=zipfile.ZIP_STORED)
        archive.writestr(CARD_ENTRY, read_card(model))
    data_bytes = buffer.getvalue()
    if len(data_bytes) > dataset.MAX_UPLOAD_BYTES:
        raise ProjectError(
            f"the project would be {len(data_bytes) / dataset._MB:.1f} MB; an import takes at "
            f"most {dataset.MAX_UPLOAD_BYTES // dataset._MB} MB, so it was not written"
        )
    write_bytes_atomically(out, data_bytes)
    return Project(list(counts), counts, drawings)


def import_project(
    source: str | os.PathLike, data: str | os.PathLike, model: str | os.PathLike
) -> Project:
    """Unpack a project into a dataset folder with no drawings yet and a new model file.

    Refused with nothing written: a file that is not a project, a model file that is not a
    shapecnn model of the project's classes, a dataset folder that holds drawings already, a
    model path that exists, and everything dataset.import_zip refuses."""
    from shapecnn.card import with_metadata
    from shapecnn.model import ModelMetadata, read_metadata

    data, model = Path(data), Path(model)
    if model.suffix != ".keras":
        raise ProjectError(f"model path must end in .keras, got {str(model)!r}")
    if model.exists():
        raise ProjectError(f"{model} exists already; import the project's model into a new file")
    if dataset.count_images(data):
        raise ProjectError(f"{data} holds drawings already; import a project into a new folder")
    with open_regular_file(source) as handle:  # a named pipe is refused, not waited on
        size = os.fstat(handle.fileno()).st_size
        if size > dataset.MAX_UPLOAD_BYTES:
            raise ProjectError(
                f"{source} is {size / dataset._MB:.1f} MB; at most "
                f"{dataset.MAX_UPLOAD_BYTES // dataset._MB} MB, nothing imported"
            )
        raw = handle.read(dataset.MAX_UPLOAD_BYTES + 1)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            manifest = _manifest(archive, source)
            info = archive.getinfo(MODEL_ENTRY)
            if info.file_size > MAX_MODEL_BYTES:
                raise ProjectError(f"{source}: its model unpacks to {info.file_size:,} bytes")
            model_bytes = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError) as error:
        raise ProjectError(f"{source} is not a shapecnn project file ({error})") from None
    model.parent.mkdir(parents=True, exist_ok=True)
    temp = model.with_name(f".{model.stem}.tmp-{uuid.uuid4().hex[:8]}.keras")
    try:
        write_bytes_atomically(temp, model_bytes)
        metadata = read_metadata(temp)
        if sorted(metadata.class_names) != sorted(manifest["classes"]):
            raise ProjectError(
                f"{source}: its model's classes ({', '.join(metadata.class_names)}) are not "
                f"its dataset's ({', '.join(manifest['classes'])}), nothing imported"
            )
        report = dataset.import_zip(data, raw, split="auto")  # the splits come from the zip
        unexpected = [
            f"{name}: {why}"
            for name, why in report.skipped
            if not name.endswith((MANIFEST, MODEL_ENTRY, CARD_ENTRY))
        ]
        counts = dataset.count_images(data)
        if unexpected or counts != manifest["counts"]:
            _remove(report.saved, data)
            raise ProjectError(
                f"{source}: its drawings did not all import ({'; '.join(unexpected[:3])}), "
                "nothing imported"
            )
        # The model now belongs to this dataset: its card and export checks say so.
        metadata = ModelMetadata.from_json(metadata.to_json())
        metadata.data = str(data.resolve())
        write_bytes_atomically(temp, with_metadata(model_bytes, metadata, model.name))
        os.replace(temp, model)
    finally:
        temp.unlink(missing_ok=True)
    return Project(list(counts), counts, len(report.saved))


def _manifest(archive: zipfile.ZipFile, source) -> dict:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise ProjectError(f"{source} is not a shapecnn project file (no {MANIFEST})") from None
    if info.file_size > 4 * 1024 * 1024:
        raise ProjectError(f"{source}: its {MANIFEST} is too big")
    try:
        manifest = json.loads(archive.read(info))
        classes, counts = manifest["classes"], manifest["counts"]
        if manifest.get("format", 0) > FORMAT:
            raise ProjectError(f"{source} was written by a newer shapecnn (format {FORMAT}+)")
        if not isinstance(classes, list) or not isinstance(counts, dict):
            raise ValueError("classes must be a list and counts an object")
    except (ValueError, KeyError, TypeError) as error:
        raise ProjectError(f"{source}: its {MANIFEST} is not valid ({error})") from None
    return manifest


def _remove(paths: list[Path], root: Path) -> None:
    for path in paths:
        with contextlib.suppress(ShapeCNNError, OSError):
            dataset.delete_image(root, path)
