"""python -m shapecnn: manage drawings, train, evaluate and predict from a terminal.

Exit status: 0 on success, 1 for refused input (bad label, blank drawing, unreadable file, a
dataset that cannot be trained on) and for a disk that refuses a write (full, read-only), 2 for
usage errors, 141 when the reader of the output goes away early (`... | head -1`, which stays
quiet); every failure prints one line on stderr. TensorFlow is imported only by the commands
that need it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from shapecnn import dataset
from shapecnn.base import PRETRAIN_DEFAULTS
from shapecnn.config import DEFAULT_DATA, DEFAULT_MODEL, RECIPES, SPLITS
from shapecnn.errors import ShapeCNNError

PROG = "python -m shapecnn"
# `train --recipe tutorial` is for comparison: it gets a file of its own, so that it never
# replaces the model the page uses (DEFAULT_MODEL, which the default recipe writes).
TUTORIAL_MODEL = DEFAULT_MODEL.with_name("tutorial.keras")
# A command that reads a dataset defaults to that dataset's model, as the page does.
DATA_MODEL_DEFAULT = (
    f"default: {DEFAULT_MODEL.parent.name}/{DEFAULT_MODEL.name} for the starter data, "
    f"{DEFAULT_MODEL.parent.name}/NAME.keras for a dataset NAME, as on the page"
)
DATA_MODEL_HELP = f"model file ({DATA_MODEL_DEFAULT})"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Teach a small CNN to recognise hand-drawn shapes. Drawings live in "
        "DATA/train/<class>/*.png and DATA/test/<class>/*.png (the Keras tutorial layout).",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    data_help = f"dataset folder (default: {_shown(DEFAULT_DATA)})"
    model_help = f"model file (default: {_shown(DEFAULT_MODEL)})"

    info = commands.add_parser(
        "info",
        help="list classes, counts per split and unreadable files",
        description="Show a dataset's classes, the number of drawings per class and split, and "
        "every file that training would skip (with the reason). First removes temporary files "
        "that interrupted saves left behind (hidden, older than 10 minutes) and undoes an import "
        "that a crash interrupted (or finishes a class deletion or rename).",
    )
    info.add_argument("--data", type=Path, default=DEFAULT_DATA, help=data_help)

    add = commands.add_parser(
        "add",
        help="import drawings into a class",
        description="Import image files as drawings of one class. Every file is checked first "
        "(an image, not blank); if any is refused nothing is imported. Files are staged, then "
        "published under new unique names together: killed or out of disk space, an add leaves "
        "all of them or none.",
    )
    add.add_argument("--data", type=Path, required=True, help="dataset folder to add to")
    add.add_argument("--label", required=True, help=f"class name: {dataset.LABEL_RULE}")
    add.add_argument(
        "--split",
        choices=dataset.SPLIT_CHOICES,
        default="auto",
        help="where the drawings go; auto (default) keeps about one in four of each class in test",
    )
    add.add_argument(
        "--by",
        metavar="NAME",
        help="who drew them, kept in each PNG (for evaluate --by-person); images that say "
        "it already keep theirs without --by",
    )
    add.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files")

    synth = commands.add_parser(
        "synth",
        help="draw hand-drawn-looking shapes into a dataset",
        description="Generate wobbly, hand-drawn-looking circles, rectangles and triangles, "
        "about a quarter of each class in test.",
    )
    synth.add_argument("--data", type=Path, required=True, help="dataset folder to write to")
    synth.add_argument("--per-class", type=_positive_int, default=20, help="drawings per class")
    synth.add_argument("--seed", type=int, default=0, help="random seed (same seed, same drawings)")

    new_dataset = commands.add_parser(
        "new-dataset",
        help="start a new dataset beside the others: empty, or a copy of another",
        description="Make the dataset FOLDER/NAME (train/ and test/): empty, or with a copy of "
        "every drawing of --from (which is only read). It is made in a hidden folder and renamed "
        "into place: it appears whole or not at all. Train it into a model of its own, e.g. "
        "train --data FOLDER/NAME --model models/NAME.keras.",
    )
    new_dataset.add_argument("name", metavar="NAME", help=f"dataset name: {dataset.LABEL_RULE}")
    new_dataset.add_argument(
        "--from", dest="source", type=Path, metavar="DATA", help="dataset to copy the drawings of"
    )
    new_dataset.add_argument(
        "--folder",
        type=Path,
        default=DEFAULT_DATA.parent,
        help=f"where datasets live (default: {_shown(DEFAULT_DATA.parent)}, beside the starter)",
    )

    train = commands.add_parser(
        "train",
        help="train the CNN on a dataset and save the model",
        description="Train on DATA/train, report on DATA/test like the Keras tutorial, and save "
        "the model with its class names and settings (atomically: a crash keeps the old model).",
    )
    train.add_argument("--data", type=Path, default=DEFAULT_DATA, help=data_help)
    train.add_argument(
        "--model",
        type=Path,
        help=f"model file ({DATA_MODEL_DEFAULT}; with --recipe tutorial "
        f"{_shown(TUTORIAL_MODEL)} or NAME_tutorial.keras)",
    )
    train.add_argument(
        "--recipe",
        choices=list(RECIPES),
        default="default",
        help="default: from the shape base, seconds; scratch: the tutorial CNN from scratch with "
        "augmentation; tutorial: batch 3, 50 epochs of 45 steps, as the tutorial",
    )
    train.add_argument("--epochs", type=_positive_int, help="at most this many epochs")
    train.add_argument("--batch-size", type=_positive_int, help="drawings per training step")
    train.add_argument("--seed", type=int, help="random seed (same seed, same model)")

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion matrix on labelled drawings",
        description="Score a model on DATA's test split, or on DATA itself when it holds class "
        "folders directly (DATA/<class>/*.png).",
    )
    evaluate.add_argument("--model", type=Path, help=DATA_MODEL_HELP)
    evaluate.add_argument("--data", type=Path, default=DEFAULT_DATA, help=data_help)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--by-person",
        action="store_true",
        help="also accuracy on people the model never saw: for each person with at least 5 "
        "drawings of every class (add --by NAME), train with the model's recipe without "
        "them and score on them; recorded in the model file and its card",
    )
    evaluate.add_argument(
        "--person",
        action="append",
        metavar="NAME",
        help="with --by-person: hold out only this person (repeatable)",
    )
    evaluate.add_argument(
        "--no-record",
        action="store_true",
        help="with --by-person: leave the model file as it is",
    )

    pretrain = commands.add_parser(
        "pretrain",
        help="rebuild the shape base (the pretrained feature extractor shapecnn ships)",
        description="Pretrain the shape base on synthetic kinds (shapecnn.synth) and, with "
        "--hds, real people's drawings (the Hand-drawn Shapes dataset, CC BY 4.0), and write "
        "its weights with RECIPE.json beside them. The shipped base was made with "
        "`python -m shapecnn pretrain --hds ../shared/hds`. Takes 10-20 minutes on 2 cores.",
    )
    pretrain.add_argument("--hds", type=Path, help="folder of Hand-drawn Shapes people (user.*)")
    pretrain.add_argument(
        "--out", type=Path, default=None, help="weights file (default: the shipped base's)"
    )
    for name, value in (("epochs", "epochs"), ("per-kind", "per_kind"), ("seed", "seed")):
        pretrain.add_argument(
            f"--{name}",
            type=int,
            default=None,
            help=f"default {PRETRAIN_DEFAULTS[value]}",
        )

    predict = commands.add_parser(
        "predict",
        help="top class and probabilities for image files",
        description="Predict the class of each image file.",
    )
    predict.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=model_help)
    predict.add_argument("--json", action="store_true", help="one JSON object per line per image")
    predict.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files")
    _add_sharing_commands(commands, model_help)
    return parser


def _add_sharing_commands(commands, model_help: str) -> None:
    """export, card and project: taking a model (and its drawings) elsewhere (#16)."""
    export = commands.add_parser(
        "export",
        help="write the model as a LiteRT (.tflite) or ONNX (.onnx) file",
        description="Export the model's network with Keras' own exporter, check it with its "
        "own runtime against Keras on the model's test drawings (same top class on every "
        "one, probabilities within 1e-4) and write it; a disagreeing export is refused.",
    )
    export.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=model_help)
    export.add_argument("--format", choices=["litert", "onnx"], required=True)
    export.add_argument("--out", type=Path, help="output file (default: beside the model)")

    card = commands.add_parser(
        "card",
        help="print the model card (Markdown)",
        description="Print the card every model file carries: classes and counts, recipe, "
        "accuracy (per class, and on people it never saw where measured), preprocessing, "
        "what it is not for.",
    )
    card.add_argument("--model", type=Path, default=DEFAULT_MODEL, help=model_help)

    project = commands.add_parser(
        "project",
        help="one .zip with a dataset, its model and card: export or import",
        description="A project file holds the dataset (Keras layout), the model file and "
        "its card. Import checks it as an upload is checked and lands all or nothing.",
    )
    actions = project.add_subparsers(dest="action", required=True, parser_class=_Parser)
    out = actions.add_parser("export", help="write a project file")
    out.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder")
    out.add_argument("--model", type=Path, help=DATA_MODEL_HELP)
    out.add_argument("--out", type=Path, required=True, help="project file (.zip)")
    into = actions.add_parser("import", help="unpack a project file")
    into.add_argument("file", type=Path, metavar="FILE.zip", help="project file")
    into.add_argument("--data", type=Path, required=True, help="new dataset folder")
    into.add_argument("--model", type=Path, required=True, help="new model file (.keras)")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def default_model(args) -> Path:
    """The model file a command uses when --model is not given: the starter data's is
    DEFAULT_MODEL, another dataset's models/<its name>.keras (the page's rule,
    page/datasets.py), and the tutorial recipe's a file of its own beside it."""
    data = getattr(args, "data", None)
    starter = data is None or dataset.same_folder(Path(data), DEFAULT_DATA)
    tutorial = getattr(args, "recipe", None) == "tutorial"
    if starter:
        return TUTORIAL_MODEL if tutorial else DEFAULT_MODEL
    name = Path(data).resolve().name
    return DEFAULT_MODEL.parent / (f"{name}_tutorial.keras" if tutorial else f"{name}.keras")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "model", DEFAULT_MODEL) is None:
        args.model = default_model(args)
    warnings.showwarning = _print_warning
    try:
        status = COMMANDS[args.command](args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
        return status
    except BrokenPipeError:
        # The reader stopped early (`| head -1`): stop quietly, as other tools do. Python would
        # otherwise complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ShapeCNNError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        # What the package does not turn into a ShapeCNNError itself: still one line.
        where = f": {error.filename}" if error.filename else ""
        print(f"{PROG} {args.command}: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


# --- commands -----------------------------------------------------------------------------------


def cmd_info(args) -> int:
    root = dataset.require_dataset(args.data)
    # First, so the counts below are after an interrupted import was undone or finished.
    removed = dataset.clean_temp_files(root)
    counts = dataset.count_images(root)
    print(f"dataset: {root}")
    print(f"{len(counts)} {'class' if len(counts) == 1 else 'classes'}")
    width = max([len(name) for name in counts] + [5])
    print(f"  {'class':<{width}}  {'train':>6}  {'test':>6}")
    for name, split_counts in counts.items():
        print(f"  {name:<{width}}  {split_counts['train']:>6}  {split_counts['test']:>6}")
    totals = {split: sum(c[split] for c in counts.values()) for split in SPLITS}
    print(f"  {'total':<{width}}  {totals['train']:>6}  {totals['test']:>6}")
    problems = dataset.find_problems(root)
    if problems:
        print(f"{len(problems)} unreadable files (training skips them):")
        for path, reason in problems:
            print(f"  {path}: {reason}")
    else:
        print("no unreadable files")
    if removed:
        print(f"removed {removed} temporary files left by interrupted saves")
    return 0


def cmd_add(args) -> int:
    saved = dataset.import_images(args.data, args.label, args.images, args.split, drawn_by=args.by)
    dataset.clean_temp_files(args.data)
    for source, target in zip(args.images, saved, strict=True):
        print(f"{source} -> {target}")
    label = dataset.validate_label(args.label)
    counts = dataset.count_images(args.data)[label]
    print(f"{label}: {counts['train']} train, {counts['test']} test")
    return 0


def cmd_synth(args) -> int:
    from shapecnn.synth import synth_dataset

    counts = synth_dataset(args.data, per_class=args.per_class, seed=args.seed)
    for name, split_counts in counts.items():
        print(f"{name}: {split_counts['train']} train, {split_counts['test']} test")
    print(f"wrote {sum(sum(c.values()) for c in counts.values())} drawings to {args.data}")
    return 0


def cmd_new_dataset(args) -> int:
    root = dataset.create_dataset(args.folder, args.name, args.source)
    counts = dataset.count_images(root)
    for name, split_counts in counts.items():
        print(f"{name}: {split_counts['train']} train, {split_counts['test']} test")
    drawings = sum(sum(c.values()) for c in counts.values())
    copied = f"{drawings} drawings copied from {args.source}" if args.source else "empty"
    print(f"created {_shown(root)} ({copied})")
    return 0


def cmd_train(args) -> int:
    from shapecnn.config import resolve_recipe
    from shapecnn.jobs import ModelLock

    recipe = resolve_recipe(
        args.recipe, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed
    )
    # The same lock the page's training jobs take: one run per model file, whoever starts it.
    lock = ModelLock(args.model)
    if not lock.acquire(f"python -m shapecnn train (pid {os.getpid()})"):
        print(
            f"{PROG}: {_shown(Path(args.model))} is being trained by {lock.holder()}; "
            "wait for it to finish, or train into another file with --model",
            file=sys.stderr,
        )
        return 1
    try:
        return _train_holding_lock(args, recipe)
    finally:
        lock.release()


def _train_holding_lock(args, recipe) -> int:
    import numpy as np

    from shapecnn.training import load_training_data, train

    data = load_training_data(args.data)
    n_classes = len(data.class_names)
    print(f"Found {len(data.train)} images belonging to {n_classes} classes.")
    print(f"Found {len(data.test)} images belonging to {n_classes} classes.")

    def report(epoch: int, logs: dict) -> None:
        order = ("loss", "accuracy", "test_loss", "test_accuracy")
        metrics = " - ".join(f"{key}: {logs[key]:.4f}" for key in order if key in logs)
        print(f"Epoch {epoch}/{recipe.epochs} - {metrics}", flush=True)

    result = train(data, recipe, model_path=args.model, on_epoch_end=report)
    print(f"trained {result.metadata.epochs_run} epochs in {result.seconds:.1f} s")
    print("-- Evaluate --")
    if result.evaluation is None:
        for note in result.notes:
            print(note)
    else:
        print(f"accuracy: {result.evaluation.accuracy:.2%}")
        print("-- Predict --")
        print({name: index for index, name in enumerate(data.class_names)})
        with np.printoptions(formatter={"float": "{:0.3f}".format}, threshold=sys.maxsize):
            print(result.test_probabilities)
    print(f"saved model to {result.model_path}")
    return 0


def cmd_pretrain(args) -> int:
    from shapecnn import base as shape_base

    settings = dict(shape_base.PRETRAIN_DEFAULTS)
    for name in ("epochs", "per_kind", "seed"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    out = args.out or shape_base.BASE_WEIGHTS
    path, recipe = shape_base.rebuild(settings, args.hds, out, log=print)
    print(
        f"wrote {_shown(Path(path))} ({recipe['seconds']:.0f} s, {recipe['corpus_size']} drawings)"
    )
    return 0


def _load_classifier(path: Path):
    from shapecnn.inference import Classifier
    from shapecnn.model import read_metadata

    read_metadata(path)  # a clear error for a missing or foreign file, before TensorFlow loads
    return Classifier.load(path)


def cmd_evaluate(args) -> int:
    from shapecnn.evaluation import evaluate_predictions, format_evaluation

    if args.by_person:
        return _evaluate_by_person(args)
    classifier = _load_classifier(args.model)
    folder = Path(args.data)
    split = "test" if (folder / "test").is_dir() else None
    if split is None and not dataset.list_class_folders(folder):
        raise ShapeCNNError(
            f"{folder} holds no class folders: give a dataset root (with test/) or a folder "
            "of class folders (<class>/*.png)"
        )
    # An emptied class folder is no class: no warning about it.
    present = dataset.list_class_folders(folder / split if split else folder, with_images=True)
    unknown = [name for name in present if name not in classifier.classes]
    if unknown:
        warnings.warn(
            "not evaluated, the model does not know these classes: " + ", ".join(unknown),
            stacklevel=1,
        )
    samples = dataset.load_samples(folder, split, classifier.classes, classifier.preprocess_config)
    if not len(samples):
        raise ShapeCNNError(f"no drawings of the model's classes in {folder / (split or '')}")
    probabilities = classifier.predict_preprocessed(samples.x)
    evaluation = evaluate_predictions(samples.y, probabilities, classifier.classes)
    if args.json:
        print(json.dumps(evaluation.to_dict(), ensure_ascii=False))
    else:
        print(format_evaluation(evaluation))
    return 0


def cmd_predict(args) -> int:
    classifier = _load_classifier(args.model)
    refused = 0
    for path in args.images:
        try:
            probabilities = classifier.predict(path)
        except ShapeCNNError as error:
            refused += 1
            message = str(error) if str(path) in str(error) else f"{path}: {error}"
            print(f"{PROG} predict: error: {message}", file=sys.stderr)
            continue
        label = probabilities.label
        if args.json:
            line = {"file": str(path), **probabilities.to_dict()}
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            shown = "  ".join(f"{name} {p:.3f}" for name, p in probabilities.items())
            verdict = f"not sure, closest {label}" if probabilities.unsure else label
            print(f"{path}: {verdict} ({probabilities[label]:.1%})  [{shown}]", flush=True)
    return 1 if refused else 0


def _evaluate_by_person(args) -> int:
    from shapecnn.model import read_metadata
    from shapecnn.people import held_out_people, record

    metadata = read_metadata(args.model)
    if not args.json:
        test = metadata.test_accuracy
        print(f"test accuracy: {'-' if test is None else f'{test:.2%}'} (the model's test split)")

    def starting(person: str) -> None:
        if not args.json:
            print(f"training without {person} ...", flush=True)

    report = held_out_people(args.data, metadata, only=args.person, on_person=starting)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.format())
    if not args.no_record:
        record(args.model, report, metadata.trained_at)
        if not args.json:
            print(f"recorded in {_shown(Path(args.model))} (its card shows it)")
    return 0


def cmd_export(args) -> int:
    from shapecnn.export import default_out, export_model_file, write_export

    export = export_model_file(args.model, args.format)
    out = write_export(export, args.out or default_out(args.model, args.format))
    print(export.summary())
    print(f"wrote {_shown(out)} ({len(export.data):,} bytes)")
    return 0


def cmd_card(args) -> int:
    from shapecnn.card import read_card

    print(read_card(args.model), end="")
    return 0


def cmd_project(args) -> int:
    from shapecnn.project import export_project, import_project

    if args.action == "export":
        project = export_project(args.data, args.model, args.out)
        where = args.out
    else:
        project = import_project(args.file, args.data, args.model)
        where = f"{_shown(Path(args.data))} and {_shown(Path(args.model))}"
    for name, counts in project.counts.items():
        print(f"{name}: {counts['train']} train, {counts['test']} test")
    print(f"{args.action}ed {project.drawings} drawings and the model: {where}")
    return 0


COMMANDS = {
    "info": cmd_info,
    "add": cmd_add,
    "synth": cmd_synth,
    "new-dataset": cmd_new_dataset,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "pretrain": cmd_pretrain,
    "export": cmd_export,
    "card": cmd_card,
    "project": cmd_project,
}
