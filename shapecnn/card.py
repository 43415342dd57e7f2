"""The model card: what a model is, what it was trained on, how well it does and what it is not
for, in a page of Markdown written from its metadata alone.

Every model file carries its card (the `MODEL_CARD.md` entry, written by model.save_model); the
CLI prints it (`python -m shapecnn card`). Nothing here loads TensorFlow.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from shapecnn.model import METADATA_ENTRY, ModelMetadata

CARD_ENTRY = "MODEL_CARD.md"


def _percent(value) -> str:
    return "-" if value is None else f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def model_card(metadata: ModelMetadata, name: str = "") -> str:
    """The card of a model (Markdown); `name` is the model file's name, if it has one."""
    m = metadata
    recipe = m.recipe or {}
    metrics = m.test_metrics or {}
    per_class = metrics.get("per_class") or {}
    lines = [f"# Model card{': ' + name if name else ''}", ""]
    lines += [
        f"A shapecnn drawing classifier: it tells {len(m.class_names)} classes of hand-drawn "
        f"shapes apart, from a drawing shrunk to {m.input_shape[0]}x{m.input_shape[1]} pixels.",
        "",
        "## Classes and drawings",
        "",
        "| class | train drawings | test drawings | test accuracy |",
        "|---|---:|---:|---:|",
    ]
    for label in m.class_names:
        counts = m.counts.get(label, {})
        lines.append(
            f"| {_cell(label)} | {counts.get('train', 0)} | {counts.get('test', 0)} "
            f"| {_percent(per_class.get(label))} |"
        )
    totals = {s: sum(c.get(s, 0) for c in m.counts.values()) for s in ("train", "test")}
    lines.append(
        f"| **all** | {totals['train']} | {totals['test']} | {_percent(metrics.get('accuracy'))} |"
    )
    lines += ["", "## How well it does", ""]
    if metrics.get("accuracy") is not None:
        lines.append(
            f"- Test accuracy: **{_percent(metrics['accuracy'])}** of {metrics.get('count', 0)} "
            "test drawings (kept out of training, usually drawn by the same people)."
        )
    else:
        lines.append("- Test accuracy: unknown (there were no test drawings).")
    lines += _people_lines(m)
    lines += ["", "## Training", ""]
    lines.append(
        f"- Recipe: `{recipe.get('name', '?')}` (network `{m.architecture}`, "
        f"{m.epochs_run} epochs run of at most {recipe.get('epochs', '?')}, batch "
        f"{recipe.get('batch_size', '?')}, learning rate {recipe.get('learning_rate', '?')}, "
        f"augmentation {'on' if recipe.get('augment') else 'off'}, seed {recipe.get('seed', '?')})."
    )
    if m.architecture == "base":
        lines.append(
            "- Starts from the shape base: a network pretrained on many kinds of synthetic and "
            "real hand-drawn shapes; only a new head is fitted on these drawings."
        )
    judgement = (m.novelty or {}).get("judgement")
    if m.architecture == "base" and isinstance(judgement, dict):
        weight = judgement.get("own_weight")
        alike = judgement.get("alike") or []
        lines.append(
            f"- Its answer weighs the head ({weight}) against the base's judgement of which "
            "class's drawings a drawing looks like"
            + (
                "; among classes the base cannot tell apart ("
                + "; ".join(", ".join(group) for group in alike)
                + ") the head alone decides."
                if alike
                else "."
            )
        )
    when = m.trained_at or "unknown"
    lines.append(f"- Trained: {when}, in {m.train_seconds:.1f} s.")
    if m.data:
        lines.append(f"- Dataset: `{m.data}`.")
    if m.versions:
        lines.append(
            "- With: " + ", ".join(f"{k} {v}" for k, v in sorted(m.versions.items())) + "."
        )
    lines += ["", "## Inputs", ""]
    p = m.preprocess
    powers = getattr(p, "aspect_powers", None) or (getattr(p, "aspect_power", 1.0),)
    kept = ", ".join(f"{power:g}" for power in powers)
    crop = (
        f"cropped to the ink plus a {p.margin:.0%} margin, keeping the aspect ratio "
        f"(to the power {kept}{' in its channels' if len(powers) > 1 else ''})"
        if p.crop == "ink"
        else "resized whole, not cropped"
    )
    lines.append(
        f"Any image (PNG, JPEG, BMP, GIF or a canvas array) is composited over white and turned "
        f"into ink (0 paper, 1 black; a pixel at least {p.ink_threshold:g} dark counts as ink), "
        f"{crop}, shrunk by area averaging to {p.size}x{p.size}"
        + (", its darkest pixel stretched to full black" if p.normalize_contrast else "")
        + f", and given as {p.channels} channel{'s' if p.channels > 1 else ''} of values "
        "in [0, 1], paper 1.0 and black ink 0.0. `shapecnn.preprocess.preprocess` does exactly "
        "this; an exported file (`python -m shapecnn export`) needs the same preprocessing."
    )
    lines += ["", "## What it is not for", ""]
    unsure = (
        'It says "not sure" when a drawing is unlike every training drawing; otherwise it '
        "answers one of its classes."
        if m.novelty
        else 'It cannot say "not sure": it always answers one of its classes.'
    )
    lines += [
        f"- Anything but these classes: shown something else (a word, a photo, a blank page) "
        f"it still picks the closest class. {unsure}",
        "- Drawings unlike its training drawings: another person's hand, another pen, other "
        "proportions can cost accuracy (see accuracy on people it never saw, above).",
        "- Decisions that matter: it was trained on a few drawings, for teaching and play.",
    ]
    if m.export:
        lines += [
            "",
            "## Export",
            "",
            f"The file carries a {m.export.get('format', 'LiteRT')} export of the network, "
            f"checked against Keras on {m.export.get('drawings', '?')} drawings (max probability "
            f"difference {m.export.get('max_difference', 0):.1e}).",
        ]
    return "\n".join(lines) + "\n"


def _people_lines(m: ModelMetadata) -> list[str]:
    people = m.held_out_people
    if not people or people.get("accuracy") is None:
        return [
            "- Accuracy on people it never saw: not measured (give drawings a drawer's name, "
            "`add --by NAME`, then run `python -m shapecnn evaluate --by-person`)."
        ]
    lines = [
        f"- Accuracy on people it never saw: **{_percent(people['accuracy'])}**, trained "
        "without each person in turn and scored on that person's drawings "
        f"({people.get('measured_at', 'date unknown')}):"
    ]
    for person in people.get("people", []):
        lines.append(
            f"  - {_cell(person.get('name'))}: {_percent(person.get('accuracy'))} of "
            f"{person.get('count', 0)} drawings"
        )
    test = people.get("test_accuracy")
    if test is not None:
        gap = test - people["accuracy"]
        lines.append(
            f"- The gap between test accuracy and accuracy on people it never saw: "
            f"{gap * 100:+.1f} points. It is the number to watch for someone new."
        )
    return lines


def read_card(path: str | os.PathLike) -> str:
    """The card of the model file at `path`: its own entry, or one written from its metadata
    (files from before cards existed)."""
    from shapecnn.model import read_metadata

    metadata = read_metadata(path)  # validates the file first
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(CARD_ENTRY)
        except KeyError:
            return model_card(metadata, Path(path).name)
        if info.file_size <= 1024 * 1024:
            return archive.read(info).decode("utf-8", errors="replace")
    return model_card(metadata, Path(path).name)


def with_metadata(archive: bytes, metadata: ModelMetadata, name: str = "") -> bytes:
    """A model file's bytes with its metadata and card replaced (network and export as they
    were): for figures measured after training, such as accuracy on people it never saw."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename not in (METADATA_ENTRY, CARD_ENTRY):
                target.writestr(info, source.read(info))
        target.writestr(METADATA_ENTRY, metadata.to_json())
        target.writestr(CARD_ENTRY, model_card(metadata, name))
    return out.getvalue()
