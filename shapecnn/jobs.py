"""Background training jobs: at most one per model file, visible to every session of a page.

A page asks a `JobRegistry` to start training and returns at once; the job trains in a thread
and records its progress (epoch, loss and accuracy history, result) where any session, and any
reload of the page, can read it. Starting a job for a model file that is already being trained
returns the running job instead of a second one. A lock file next to the model (`flock`) keeps a
second process, such as another server, from training the same file at the same time.

TensorFlow is imported by the job's thread, not by this module, so a page can create a registry
without paying for it.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from shapecnn.config import RECIPES, Recipe
from shapecnn.errors import ShapeCNNError

STARTING, RUNNING, DONE, FAILED, CANCELLED = "starting", "running", "done", "failed", "cancelled"
ACTIVE_STATES = (STARTING, RUNNING)


class JobBusyError(ShapeCNNError):
    """Another process is training the same model file."""


def lock_path(model_path: str | os.PathLike) -> Path:
    """The lock file of a model file: hidden, next to it."""
    model_path = Path(model_path)
    return model_path.with_name(f".{model_path.name}.lock")


class ModelLock:
    """An exclusive, non-blocking `flock` on a model's lock file; the OS drops it if we die."""

    def __init__(self, model_path: str | os.PathLike):
        self.path = lock_path(model_path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class Misclassified:
    """A test drawing the model got wrong."""

    path: Path
    true: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class JobResult:
    """What a finished training run reports: test metrics and the drawings it got wrong."""

    classes: list[str]
    counts: dict[str, dict[str, int]]
    epochs_run: int
    seconds: float
    # None when the dataset has no test drawings.
    accuracy: float | None
    per_class: dict[str, float | None]
    confusion: list[list[int]]
    misclassified: list[Misclassified]
    skipped: list[tuple[Path, str]]
    notes: list[str]
    model_path: Path | None


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state, safe to read while the job goes on."""

    id: str
    data: Path
    model_path: Path
    recipe: Recipe
    state: str
    message: str
    epoch: int
    history: list[dict[str, float]]
    started_at: float
    finished_at: float | None
    cancel_requested: bool
    result: JobResult | None
    error: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def progress(self) -> float:
        """Fraction of the planned epochs done (1.0 when finished, even if it stopped early)."""
        if self.state == DONE:
            return 1.0
        return min(1.0, self.epoch / max(1, self.recipe.epochs))


def make_recipe(recipe: str = "default", **overrides) -> Recipe:
    """A named recipe with the non-None overrides applied (checked again when training starts)."""
    if recipe not in RECIPES:
        raise ShapeCNNError(f"recipe must be one of {', '.join(RECIPES)}; got {recipe!r}")
    return RECIPES[recipe].with_overrides(**overrides)


class TrainingJob:
    """One training run in a thread: progress, history, cancel and the result."""

    def __init__(self, data: str | os.PathLike, model_path: str | os.PathLike, recipe: Recipe):
        self.id = uuid.uuid4().hex[:12]
        self.data = Path(data)
        self.model_path = Path(model_path)
        self.recipe = recipe
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = STARTING
        self._message = "Loading the drawings and TensorFlow"
        self._epoch = 0
        self._history: list[dict[str, float]] = []
        self._started_at = time.time()
        self._finished_at: float | None = None
        self._result: JobResult | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"train-{self.id}", daemon=True)
        self._model_lock: ModelLock | None = None

    def start(self, model_lock: ModelLock) -> None:
        self._model_lock = model_lock
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop after the current batch; the previous model stays."""
        with self._lock:
            if self._state in ACTIVE_STATES:
                self._message = "Cancelling"
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def active(self) -> bool:
        with self._lock:
            return self._state in ACTIVE_STATES

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(
                id=self.id,
                data=self.data,
                model_path=self.model_path,
                recipe=self.recipe,
                state=self._state,
                message=self._message,
                epoch=self._epoch,
                history=[dict(row) for row in self._history],
                started_at=self._started_at,
                finished_at=self._finished_at,
                cancel_requested=self._cancel.is_set(),
                result=self._result,
                error=self._error,
            )

    # --- the thread ---------------------------------------------------------------------------

    def _set(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)

    def _on_epoch_end(self, epoch: int, logs: dict) -> None:
        with self._lock:
            self._epoch = epoch
            self._history.append({"epoch": epoch, **logs})
            if not self._cancel.is_set():
                self._message = f"Epoch {epoch} of at most {self.recipe.epochs}"

    def _run(self) -> None:
        try:
            from shapecnn.training import load_training_data, train

            data = load_training_data(self.data)
            if self._cancel.is_set():
                self._finish(CANCELLED, "Cancelled before training started")
                return
            self._set(state=RUNNING, message=f"Training on {len(data.train)} drawings")
            result = train(
                self.data,
                self.recipe,
                model_path=self.model_path,
                data=data,
                on_epoch_end=self._on_epoch_end,
                should_stop=self._cancel.is_set,
            )
            if result.cancelled:
                self._finish(CANCELLED, "Cancelled: the previous model is kept")
                return
            self._set(result=_summarise(result))
            self._finish(DONE, f"Trained {result.metadata['epochs_run']} epochs")
        except ShapeCNNError as error:
            self._finish(FAILED, "Training failed", error=str(error))
        except Exception as error:  # noqa: BLE001 - a thread must report, never die silently
            traceback.print_exc()
            self._finish(FAILED, "Training failed", error=f"{type(error).__name__}: {error}")
        finally:
            if self._model_lock is not None:
                self._model_lock.release()

    def _finish(self, state: str, message: str, error: str | None = None) -> None:
        self._set(state=state, message=message, error=error, finished_at=time.time())


def _summarise(result) -> JobResult:
    data = result.data
    evaluation = result.evaluation
    misclassified = []
    if evaluation is not None:
        predicted = result.test_probabilities.argmax(axis=1)
        for path, true, guess, probabilities in zip(
            data.test.paths, data.test.y, predicted, result.test_probabilities, strict=True
        ):
            if true != guess:
                misclassified.append(
                    Misclassified(
                        Path(path),
                        data.class_names[true],
                        data.class_names[guess],
                        float(probabilities[guess]),
                    )
                )
    return JobResult(
        classes=list(data.class_names),
        counts=data.counts,
        epochs_run=int(result.metadata["epochs_run"]),
        seconds=float(result.seconds),
        accuracy=evaluation.accuracy if evaluation else None,
        per_class=dict(evaluation.per_class) if evaluation else {},
        confusion=evaluation.confusion if evaluation else [],
        misclassified=misclassified,
        skipped=list(data.skipped),
        notes=list(result.notes),
        model_path=result.model_path,
    )


@dataclass
class JobRegistry:
    """The training jobs of one process, by model file; share one instance across sessions."""

    _jobs: dict[str, TrainingJob] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _key(model_path: str | os.PathLike) -> str:
        return str(Path(model_path).resolve())

    def latest(self, model_path: str | os.PathLike) -> TrainingJob | None:
        """The running job for this model file, else the last one that ran, else None."""
        with self._lock:
            return self._jobs.get(self._key(model_path))

    def start(
        self,
        data: str | os.PathLike,
        model_path: str | os.PathLike,
        recipe: Recipe | None = None,
    ) -> tuple[TrainingJob, bool]:
        """(job, started): a new job, or (running job, False) if this model is being trained.

        Raises JobBusyError when another process holds the model's lock.
        """
        recipe = recipe if recipe is not None else make_recipe()
        with self._lock:
            key = self._key(model_path)
            running = self._jobs.get(key)
            if running is not None and running.active:
                return running, False
            model_lock = ModelLock(model_path)
            if not model_lock.acquire():
                raise JobBusyError(
                    f"{model_path} is being trained by another process; "
                    "wait for it to finish and reload"
                )
            job = TrainingJob(data, model_path, replace(recipe))
            self._jobs[key] = job
            job.start(model_lock)
            return job, True
