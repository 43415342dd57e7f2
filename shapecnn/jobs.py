"""Background training jobs: at most one per model file, visible to every session of a page.

A page asks a `JobRegistry` to start training and returns at once. The training itself runs in a
child process (multiprocessing, spawn): TensorFlow is imported there, never in the page's server
process, and the child runs at a lower priority (nice +10) with TensorFlow held to one thread,
so the page's strokes stay quick while it trains. The child stays warm between runs (TensorFlow,
the shape base and the drawings' features loaded), so a retrain does not pay the 4.5 s import
again; it exits by itself after WORKER_IDLE_SECONDS without work, so an idle page holds no
TensorFlow memory.

The job records its progress (epoch, loss and accuracy history, result) where any session, and
any reload of the page, can read it. Starting a job for a model file that is already being
trained returns the running job instead of a second one. A lock file next to the model (`flock`)
keeps a second process (another server, the CLI) from training the same file at the same time.
Cancel ends the child: nothing is saved, the previous model stays.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from shapecnn.config import Recipe, resolve_recipe
from shapecnn.errors import ShapeCNNError

# A warm training process with nothing to do for this long exits (and frees its memory).
WORKER_IDLE_SECONDS = 300.0
# How the child is held back, so that it never takes the page's core.
WORKER_NICE = 10
WORKER_THREADS = 1

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

    def acquire(self, owner: str | None = None) -> bool:
        """Take the lock if it is free; `owner` (who holds it, e.g. "the page, pid 12") is
        written into the lock file, for the message another process shows."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, (owner or f"process {os.getpid()}").encode()[:200], 0)
        return True

    def holder(self) -> str:
        """Who wrote the lock file last (the holder, while it is held)."""
        try:
            return self.path.read_text(errors="replace").strip()[:200] or "another process"
        except OSError:
            return "another process"

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
    # The training process's id (None before it started): never the page's own.
    worker_pid: int | None = None
    # What `message` says, as values a page can put in its own words: the run started before
    # the training process had TensorFlow loaded, and the training drawings it loaded (None
    # until they are).
    cold_start: bool = False
    drawings: int | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def progress(self) -> float:
        """Fraction of the planned epochs done (1.0 when finished, even if it stopped early)."""
        if self.state == DONE:
            return 1.0
        return min(1.0, self.epoch / max(1, self.recipe.epochs))


# Recipe lookup has one owner (config.resolve_recipe); the page names it through jobs.
make_recipe = resolve_recipe


class TrainingJob:
    """One training run in the registry's warm child process: progress, history, cancel, the
    result. A thread of the page's process follows the child's messages."""

    def __init__(
        self,
        data: str | os.PathLike,
        model_path: str | os.PathLike,
        recipe: Recipe,
        worker: _Worker | None = None,
    ):
        self.id = uuid.uuid4().hex[:12]
        self.data = Path(data)
        self.model_path = Path(model_path)
        self.recipe = recipe
        self._worker = worker if worker is not None else _Worker()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = STARTING
        self._cold_start = not self._worker.warm
        self._message = "Starting TensorFlow" if self._cold_start else "Loading the drawings"
        self._drawings: int | None = None
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
        """Stop the run: the child process ends, nothing is saved, the previous model stays."""
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
                worker_pid=self._worker.pid,
                cold_start=self._cold_start,
                drawings=self._drawings,
            )

    # --- the following thread -----------------------------------------------------------------

    def _set(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)

    def _on_message(self, kind: str, payload) -> None:
        if kind == "loaded":
            self._set(state=RUNNING, message=f"Training on {payload} drawings", drawings=payload)
        elif kind == "epoch":
            epoch, logs = payload
            with self._lock:
                self._epoch = epoch
                self._history.append({"epoch": epoch, **logs})
                if not self._cancel.is_set():
                    self._message = f"Epoch {epoch} of at most {self.recipe.epochs}"

    def _run(self) -> None:
        try:
            outcome, payload = self._worker.run(
                ("train", str(self.data), str(self.model_path), self.recipe),
                on_message=self._on_message,
                cancelled=self._cancel.is_set,
            )
            if outcome == "done":
                self._set(result=payload)
                self._finish(DONE, f"Trained {payload.epochs_run} epochs")
            elif outcome == "cancelled":
                self._finish(CANCELLED, "Cancelled: the previous model is kept")
            else:
                self._finish(FAILED, "Training failed", error=str(payload))
        except Exception as error:  # noqa: BLE001 - a thread must report, never die silently
            traceback.print_exc()
            self._finish(FAILED, "Training failed", error=f"{type(error).__name__}: {error}")
        finally:
            if self._model_lock is not None:
                self._model_lock.release()

    def _finish(self, state: str, message: str, error: str | None = None) -> None:
        self._set(state=state, message=message, error=error, finished_at=time.time())


class _Worker:
    """A warm child process that trains, one run at a time.

    Messages from the child: ("loaded", n drawings), ("epoch", (epoch, logs)), then one of
    ("done", JobResult), ("failed", message). It is started on first use and again after it
    was cancelled (ended), crashed or went idle.
    """

    def __init__(self):
        self._process = None
        self._connection = None
        self._lock = threading.Lock()

    @property
    def warm(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def _ensure(self) -> None:
        if self.warm:
            return
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_worker_main, args=(theirs, WORKER_IDLE_SECONDS), daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._connection = process, ours

    def warm_up(self) -> None:
        """Start the child now (it imports TensorFlow and the base) so a Train click is quick."""
        with self._lock:
            self._ensure()
            self._connection.send(("warm",))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def run(self, command, on_message, cancelled) -> tuple[str, object]:
        with self._lock:
            self._ensure()
            connection = self._connection
            try:
                connection.send(command)
            except (BrokenPipeError, OSError):  # it went idle and exited just now
                self.stop()
                self._ensure()
                connection = self._connection
                connection.send(command)
            while True:
                if cancelled():
                    self.stop()
                    return "cancelled", None
                try:
                    ready = connection.poll(0.1)
                    message = connection.recv() if ready else None
                except (EOFError, OSError):
                    if self._process is not None:
                        self._process.join(5)
                    code = self._process.exitcode if self._process else None
                    self.stop()
                    return "failed", f"the training process ended unexpectedly (exit {code})"
                if message is None:
                    continue
                kind, payload = message
                if kind in ("done", "failed"):
                    return kind, payload
                on_message(kind, payload)


def _worker_main(connection, idle_seconds: float) -> None:
    """The child: hold back, import TensorFlow once, then train what the parent sends."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    # Read by TensorFlow when it starts (shapecnn._tensorflow runs its first operation at once).
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(WORKER_THREADS)
    from shapecnn import training

    while connection.poll(idle_seconds):
        try:
            command = connection.recv()
        except (EOFError, OSError):
            return  # the page's process is gone
        if command[0] == "warm":
            with contextlib.suppress(ShapeCNNError):
                training.warm_up()
            continue
        _, data, model_path, recipe = command
        try:
            connection.send(
                ("done", _train_and_summarise(training, data, model_path, recipe, connection))
            )
        except ShapeCNNError as error:
            connection.send(("failed", str(error)))
        except (BrokenPipeError, EOFError):
            return
        except Exception as error:  # noqa: BLE001 - report to the page, keep serving
            traceback.print_exc()
            connection.send(("failed", f"{type(error).__name__}: {error}"))


def _train_and_summarise(training, data, model_path, recipe, connection) -> JobResult:
    loaded = training.load_training_data(data)
    connection.send(("loaded", len(loaded.train)))
    result = training.train(
        loaded,
        recipe,
        model_path=model_path,
        on_epoch_end=lambda epoch, logs: connection.send(("epoch", (epoch, logs))),
    )
    return summarise(result)


def summarise(result) -> JobResult:
    """What the page shows of a finished run (picklable, small)."""
    summary = result_of_model(result.metadata, result.model_path)
    return replace(summary, seconds=float(result.seconds), skipped=list(result.data.skipped))


def result_of_model(metadata, model_path: Path | None = None) -> JobResult:
    """A model's results as its file keeps them (ModelMetadata): what the Train view shows
    after a restart, or after a run was cancelled, until a new model replaces it."""
    metrics = metadata.test_metrics or {}
    wrong = [
        Misclassified(Path(item["path"]), item["true"], item["predicted"], item["confidence"])
        for item in metadata.misclassified
        if isinstance(item, dict) and {"path", "true", "predicted", "confidence"} <= set(item)
    ]
    return JobResult(
        classes=list(metadata.class_names),
        counts=dict(metadata.counts),
        epochs_run=int(metadata.epochs_run),
        seconds=float(metadata.train_seconds),
        accuracy=metrics.get("accuracy"),
        per_class=dict(metrics.get("per_class") or {}),
        confusion=list(metrics.get("confusion") or []),
        misclassified=wrong,
        skipped=[],
        notes=list(metadata.notes),
        model_path=Path(model_path) if model_path is not None else None,
    )


@dataclass
class JobRegistry:
    """The training jobs of one process, by model file; share one instance across sessions."""

    _jobs: dict[str, TrainingJob] = field(default_factory=dict)
    _workers: dict[str, _Worker] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Written into the lock file: who holds it, for the message another process shows.
    owner: str = field(default_factory=lambda: f"the page (pid {os.getpid()})")

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
        recipe = resolve_recipe(recipe if recipe is not None else "default")
        with self._lock:
            key = self._key(model_path)
            running = self._jobs.get(key)
            if running is not None and running.active:
                return running, False
            model_lock = ModelLock(model_path)
            if not model_lock.acquire(self.owner):
                raise JobBusyError(
                    f"{model_path} is being trained by another process "
                    f"({model_lock.holder()}); wait for it to finish and reload"
                )
            worker = self._worker_for(key)
            job = TrainingJob(data, model_path, replace(recipe), worker)
            self._jobs[key] = job
            job.start(model_lock)
            return job, True

    def warm_up(self, model_path: str | os.PathLike) -> None:
        """Start the training process for this model file ahead of the first Train click."""
        with self._lock:
            worker = self._worker_for(self._key(model_path))
        if not worker.warm:
            worker.warm_up()

    def _worker_for(self, key: str) -> _Worker:
        """The model file's training process (call under the registry's lock). A model file
        without one takes over a warm one that another model file is not using (the page
        switched datasets): one warm TensorFlow process follows the user, not one per dataset
        they looked at. A model file whose run goes on keeps its own."""
        worker = self._workers.get(key)
        if worker is None:
            for other, candidate in list(self._workers.items()):
                job = self._jobs.get(other)
                if candidate.warm and (job is None or not job.active):
                    worker = self._workers.pop(other)
                    break
            else:
                worker = _Worker()
            self._workers[key] = worker
        return worker

    def shutdown(self) -> None:
        """End every training process (running jobs fail as cancelled)."""
        for job in list(self._jobs.values()):
            job.cancel()
        for job in list(self._jobs.values()):
            job.join(30)
        for worker in self._workers.values():
            worker.stop()
