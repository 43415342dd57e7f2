"""Every text the page shows, one catalogue per language, and `t` to look one up.

    t("save.button")                       -> "Save drawing" / "그림 저장"
    t("draw.sure", confidence=0.93)        -> "93% sure"     / "확신도 93%"
    tn("drawings.count", 3)                -> "3 drawings"   / "그림 3개"

The catalogues are Python dicts, not files: they are read once, with the module, and a lookup
is two dict accesses, so a stroke's rerun pays nothing for the language (no file read, no
parsing on a cold start). A key means the same text in every language and takes the same
{placeholders}, with the same format (tests/test_page_korean.py checks both), so numbers and
units look the same in both. Class names and paths are put in as the user typed them.

The language is the picker's value in the session (app.py, ?lang=ko in the address); English
when there is none. Error messages of the shapecnn package stay English, as the CLI shows
them: the page shows them as they are, after a lead-in from here ("Training failed: ...").
"""

from __future__ import annotations

from datetime import datetime

from page import state

DEFAULT_LANGUAGE = "en"
# The picker's choices: the code in the address, and the name the picker shows.
LANGUAGES = {"en": "English", "ko": "한국어"}

EN = {
    # the frame
    "app.title": "shapecnn: draw, label, train",
    "app.view": "View",
    "app.language": "Language",
    "view.Draw": "Draw",
    "view.Train": "Train",
    "view.Drawings": "Drawings",
    # shared
    "spinner.model": "Loading the model…",
    "spinner.drawings": "Reading the drawings…",
    "label.new_class": "+ New class…",
    "label.empty": "Type a name for the new class first.",
    "dataset_name.empty": "Type a name for the new dataset first.",
    "dataset_name.not_a_name": "Not a dataset name: {problem}",
    "label.too_long": "Too long: {length} of at most {limit} characters",
    "label.not_a_name": "Not a class name: {problem}",
    "label.case_twin": "Differs only by case from {name}",
    # dataset.LABEL_RULE, the rule the package checks (tests/test_page_korean.py keeps them equal)
    "label.rule": "1 to {limit} characters: letters (any script) and digits, with '-', '_' and "
    "single spaces inside; it must start and end with a letter or digit",
    "model.unusable": "The model file cannot be used: {reason}",
    "split.auto": "auto",
    "split.train": "train",
    "split.test": "test",
    "column.class": "class",
    "column.total": "total",
    # how long ago, and how long (page/text.py: time_ago, duration)
    "time.just_now": "just now",
    "time.seconds_ago": "{count} s ago",
    "time.minutes_ago": "{count} min ago",
    "time.hours_ago": "{count} h ago",
    "time.yesterday": "yesterday",
    "time.days_ago": "{count} days ago",
    "time.unknown": "at an unknown time",
    "duration.tenths": "{seconds:.1f} s",
    "duration.seconds": "{seconds:.0f} s",
    "duration.minutes": "{minutes} min",
    "duration.minutes_seconds": "{minutes} min {seconds} s",
    "dataset.heading": "Dataset",
    "dataset.empty": "No drawings yet. Draw one and save it under a new class, or start from "
    "examples.",
    "dataset.make_starter": "Create starter drawings",
    "dataset.making_starter": "Drawing 60 example shapes",
    "dataset.made_starter": "Wrote {count} drawings",
    # the Draw view
    "draw.title": "Draw a shape",
    "draw.caption": "The model guesses as you draw. Save drawings under a label, train, and "
    "watch it improve.",
    "draw.heading.canvas": "Draw",
    "draw.heading.prediction": "Live prediction",
    "draw.heading.save": "Label and save",
    "draw.clear": "Clear",
    "draw.no_model": "No model yet. Save drawings of at least two classes, then press "
    "**Train model** below the canvas: the predictions appear here as you draw.",
    "draw.replace_model": "**Train model** below the canvas makes a new one in its place.",
    "draw.prompt": "Draw a shape on the canvas: the prediction appears when you lift the pen.",
    "draw.answered_by_model": "Model trained {when}",
    "draw.answered_by_starter": "Starter predictions from the shape base (no model trained yet)",
    "draw.answered_by_starter_training": "Starter predictions from the shape base (no model "
    "trained yet; the first one is training)",
    "draw.prediction": "Prediction",
    "draw.unsure": "not sure",
    "draw.closest": "closest is {label}",
    "draw.sure": "{confidence:.0%} sure",
    "draw.seen_alt": "What the model sees",
    "draw.seen_caption": "What it sees",
    "draw.augmentation": "Show what training makes of it",
    "draw.augmentation_caption": "Training shows the network versions like these of every "
    "drawing: slightly turned, resized, stretched, sheared, shifted and with thicker strokes.",
    "save.quick_caption": "It's a … (one click saves it; its train/test drawings so far):",
    "save.quick_help": "It's a {name}: save it there ({train} train, {test} test drawings)",
    "save.label": "Label",
    "save.new_class_name": "New class name",
    "save.new_class_placeholder": "e.g. star",
    "save.learn": "Learn as I save",
    "save.learn_help": "Each saved drawing retrains the model from the shape base in seconds, "
    "so the prediction reflects it at once. Train model runs the chosen recipe in full.",
    "save.split": "Split",
    "save.split_help": "auto keeps about a quarter of each class in test, the rest in train",
    "save.button": "Save drawing",
    "save.blank": "The canvas is blank: draw a shape first.",
    "save.saved": "Saved to {path} — {label}: {train} train, {test} test",
    "status.failed": "Training failed: {error}",
    "status.see_train": "{summary} Recipe, curves and results: **Train** at the top.",
    # the Train view
    "train.heading": "Train",
    "train.settings": "Recipe and settings",
    "train.recipe": "Recipe",
    "recipe.default": "default: from the shape base, seconds; balanced, mildly varied copies",
    "recipe.scratch": "scratch: the tutorial CNN from scratch, strongly augmented, until the loss "
    "stops improving",
    "recipe.tutorial": "tutorial: the Keras tutorial's: batch 3, 50 epochs of 45 steps, no "
    "augmentation",
    "train.epochs_at_most": "Epochs (at most)",
    "train.batch_size": "Batch size",
    "train.learning_rate": "Learning rate",
    "train.augmentation": "Augmentation (rotate, shift, zoom)",
    "train.button": "Train model",
    "train.cancel": "Cancel",
    "train.intro": "Train a model on the dataset's train split; it is tested on the test split.",
    "train.cannot_start": "Training cannot start: {error}",
    "train.already": "This model is already being trained: showing that run.",
    "train.finished": "Training finished: predictions now use the new model.",
    "train.cancelled": "Cancelled: the previous model is kept.",
    "train.unbalanced": "Unbalanced classes: {largest} has {largest_count} training drawings, "
    "{smallest_part}. The model will lean towards {largest}; draw more {smallest}.",
    "train.unbalanced_none": "{smallest} has none",
    "train.unbalanced_only": "{smallest} only {smallest_count}",
    "train.took_whole": "The last run took {duration}",
    "train.took_fit": "The current model took {duration} to fit, plus loading and saving",
    "train.last_run_same": "{took} ({recipe} recipe, {drawings}): expect about as long.",
    "train.last_run_other": "{took} ({recipe} recipe, {drawings}); the {chosen} recipe may take "
    "quite a different time.",
    "train.training_drawings.one": "{count} training drawing",
    "train.training_drawings.other": "{count} training drawings",
    # the progress line of a run (from the job's values; the package's own line is English)
    "progress.starting": "Starting TensorFlow",
    "progress.loading": "Loading the drawings",
    "progress.training.one": "Training on {count} drawing",
    "progress.training.other": "Training on {count} drawings",
    "progress.epoch": "Epoch {epoch} of at most {epochs}",
    "progress.cancelling": "Cancelling",
    # the results of a run, or of the current model
    "train.loss_curve": "Loss per epoch",
    "train.accuracy_curve": "Accuracy per epoch",
    "chart.epoch": "Epoch",
    "chart.loss": "Loss",
    "chart.accuracy": "Accuracy",
    "chart.drawings": "Drawings",
    "chart.true_class": "True class",
    "chart.predicted": "Predicted",
    "train.all_right": "Every test drawing was recognised.",
    "train.wrong": "**Test drawings it got wrong** ({count}): click one to relabel or delete it",
    "train.changed.one": "{count} drawing changed since this model was trained: it learns from "
    "the change when you train again.",
    "train.changed.other": "{count} drawings changed since this model was trained: it learns "
    "from the change when you train again.",
    "train.more": "and {count} more",
    "fix.moved_mark": "**moved to {label}**, not retrained yet",
    "fix.deleted_mark": "**deleted**, not retrained yet",
    "fix.gone": "gone since training",
    "fix.pick": "Relabel…",
    "fix.picked": "Picked",
    "fix.filed": "`{name}` ({split}) is filed as **{true}**; the model says **{predicted}** "
    "({confidence:.0%}).",
    "fix.target": "Its class",
    "fix.delete": "Delete it",
    "fix.close": "Close",
    "fix.deleted": "Deleted {name} from {split}/{label}: the model learns it when you train again.",
    "fix.moved": "Moved {name} from {split}/{old} to {split}/{new}: the model learns it when you "
    "train again.",
    "train.current_results": "The current model's results (trained {when}):",
    "train.test_accuracy": "Test accuracy",
    "train.of_tested.one": "of {count} test drawing",
    "train.of_tested.other": "of {count} test drawings",
    "train.epochs": "Epochs",
    "train.time": "Training time",
    "train.drawings": "Drawings",
    "train.drawings_help": "training drawings",
    "train.no_test_data": "There is no test data: accuracy on unseen drawings is unknown.",
    "train.note": "From training: {note}",
    "train.no_test": "{name} has no test drawings: how well it is recognised is unknown.",
    "train.small_test.one": "{name}: {score:.0%} of {count} test drawing says little; save at "
    "least {least} to test it.",
    "train.small_test.other": "{name}: {score:.0%} of {count} test drawings says little; save at "
    "least {least} to test it.",
    "train.small_test_rest.one": "{count} more class has fewer than {least} test drawings.",
    "train.small_test_rest.other": "{count} more classes have fewer than {least} test drawings.",
    "train.skipped.one": "{count} unreadable file was skipped: {files}",
    "train.skipped.other": "{count} unreadable files were skipped: {files}",
    "train.per_class": "**Per-class accuracy**",
    "train.of_column": "of",
    "train.of_help": "test drawings of the class",
    "train.accuracy_column": "accuracy",
    "train.confusion": "**Confusion matrix** (rows: true class, columns: predicted)",
    "train.model_heading": "Model",
    "train.replace_model": "**Train model** makes a new one in its place.",
    "train.no_model": "No model yet: press **Train model** (here, or under the canvas).",
    "train.classes": "Classes",
    "train.class_list": "**Classes:** {names}",
    "train.trained": "Trained {when}{epochs} · recipe {recipe}",
    "train.epochs_run.one": " · {count} epoch",
    "train.epochs_run.other": " · {count} epochs",
    "train.trained_on": "Drawings it was trained on",
    "train.download": "Download {name} ({size:.1f} MB)",
    "train.mismatch": "The dataset's classes differ from the model's: {differences}. Train again.",
    "train.mismatch_new": "the model does not know {names}",
    "train.mismatch_gone": "the dataset has no folder for {names}",
    "summary.none": "No model yet.",
    "summary.model": "Current model: from {when}.",
    "summary.model_accuracy": "Current model: from {when}, {accuracy:.0%} on its test split.",
    "summary.problem": "{problem} (training makes a new one).",
    # the Drawings view
    "browse.heading": "Browse drawings",
    "browse.empty": "No drawings yet: the ones you save appear here.",
    "browse.class": "Class",
    "browse.split": "Split",
    "browse.page": "Page (of {pages})",
    "browse.none": "No {split} drawings of {label}.",
    "browse.total.one": "{count} drawing, {order}. Click a drawing to select it.",
    "browse.total.other": "{count} drawings, {order}. Click a drawing to select it.",
    "browse.in_order.newest": "newest first",
    "browse.in_order.disagrees": "model disagrees most first",
    "browse.with_verdicts": " Under each: what the model says it is.",
    "browse.order_label": "Order",
    "browse.order.newest": "Newest first",
    "browse.order.disagrees": "Model disagrees most first",
    "browse.order_help": "Model disagrees most first: the drawings the model puts in another "
    "class, the most confident first; likely saved under the wrong class",
    "browse.verdict": "The model says {label} ({confidence:.0%})",
    "browse.verdict_unsure": "Not sure; closest: {label} ({confidence:.0%})",
    "browse.unreadable": "unreadable",
    "browse.select_all": "Select all ({count})",
    "browse.select_all_help": "Every {split} drawing of {label}, on every page",
    "browse.select_none": "Select none",
    "browse.bin.one": "Deleted {count} drawing of {label} ({split}); it waits {days} days in "
    "the dataset's bin.",
    "browse.bin.other": "Deleted {count} drawings of {label} ({split}); they wait {days} days in "
    "the dataset's bin.",
    "browse.undo": "Undo",
    "browse.restored.one": "Restored {count} drawing of {label}",
    "browse.restored.other": "Restored {count} drawings of {label}",
    "browse.delete": "Delete{count}",
    "browse.move_split": "Move to {split}{count}",
    "browse.other_class": "Other class",
    "browse.move_class": "Move to {target}{count}",
    "browse.move": "Move",
    "drawings.count.one": "{count} drawing",
    "drawings.count.other": "{count} drawings",
    "drawings.deleted.one": "Deleted {count} drawing",
    "drawings.deleted.other": "Deleted {count} drawings",
    "drawings.moved.one": "Moved to {split}/{label}: {count} drawing",
    "drawings.moved.other": "Moved to {split}/{label}: {count} drawings",
    "class.expander": "Rename or delete the class {label}",
    "class.new_name": "New name for {label}",
    "class.rename": "Rename",
    "class.confirm": "Delete the class {label} and its {drawings} ({train} train, {test} test)? "
    "This cannot be undone.",
    "class.confirm_button": "Delete {label} and its drawings",
    "class.keep": "Keep it",
    "class.delete": "Delete the class {label}…",
    "class.delete_help": "Asks first: the class and all its drawings go",
    "class.same_name": "The class is already called {old}.",
    "class.renamed": "Renamed the class {old} to {new}",
    "class.deleted": "Deleted the class {label} and its {drawings}",
    "drawings.checking": "Checking every file in the dataset…",
    "drawings.problems.one": "{count} file in the dataset cannot be used; training skips them.",
    "drawings.problems.other": "{count} files in the dataset cannot be used; training skips them.",
    "drawings.skipped_files": "Files training skips",
    "drawings.more_problems": "and {count} more: python -m shapecnn info",
    "column.file": "file",
    "column.problem": "problem",
    "column.why": "why",
    "import.heading": "Import drawings",
    "import.files": "PNG or JPEG drawings, or a .zip of class folders",
    "import.help": "At most {limit} MB at once, {session_limit} MB in all per visit. A zip "
    "holds <class>/<image> or train|test/<class>/<image>. Files that are not usable drawings "
    "are skipped and listed.",
    "import.refused": "Upload refused: this session has already sent {sent:.0f} MB of at most "
    "{limit} MB (these files: {size:.0f} MB)",
    "import.class": "Class of the images",
    "import.button": "Import",
    "import.working": "Checking and importing the drawings",
    "import.failed": "Import failed: {error}",
    "import.done.one": "Imported {count} drawing",
    "import.done.other": "Imported {count} drawings",
    "import.skipped.one": "Skipped {count} file:",
    "import.skipped.other": "Skipped {count} files:",
    "settings.heading": "Settings",
    "settings.where": "Dataset `{data}`  \nModel `{model}`\n\nStart with other folders: "
    "`streamlit run app.py -- --data DIR --model PATH`, or set `SHAPECNN_DATA` and "
    "`SHAPECNN_MODEL`.",
    # the look inside (Draw view)
    "inside.toggle": "Look inside the network",
    "inside.help": "What each layer of the network makes of the drawing, and which parts of the "
    "drawing the answer rests on; it costs each stroke a few tens of milliseconds.",
    "inside.no_layers": "This model file has no layer outputs; train again to see inside.",
    "inside.no_model": "No model trained yet: train one to see inside its network.",
    "inside.conv1.title": "First convolution: {count} maps of {height}x{width}",
    "inside.conv1.text": "Each of {count} small 3x3 filters slides over the 24x24 drawing and "
    "lights up where it finds its own pattern: an edge at one angle, the end of a line, a dark "
    "spot.",
    "inside.conv2.title": "Second convolution: {count} maps of {height}x{width}",
    "inside.conv2.text": "Each of {count} filters reads all of the first layer's maps at once, so "
    "it answers to bigger patterns built from theirs: a corner, a curve, two strokes meeting.",
    "inside.pooled.title": "Pooled: {count} maps of {height}x{width}",
    "inside.pooled.text": "Max-pooling keeps the strongest response of each 2x2 block of the "
    "second layer's maps: they shrink to half, and a pattern moved by a pixel still counts.",
    "inside.occlusion.title": "What the answer rests on",
    "inside.occlusion.text": "Each {patch}x{patch} part of the drawing was erased in turn "
    "({patches} copies, one run of the network): red where erasing it makes the network less "
    "sure of “{label}”, blue where surer, and the part it leans on most, erased alone, leaves "
    "{label} at {lowest}.",
    "inside.legend": "Maps: white is nothing found, darker blue a stronger response (one scale a "
    "layer).",
    # datasets (the top of the page)
    "datasets.box": "Dataset",
    "datasets.new": "New dataset",
    "datasets.note": "The dataset: each has its own drawings and its own model. They live in "
    "`{folder}`.",
    "datasets.note_starter": " The starter drawings (`{starter}`) stay as shipped: the first save "
    "into them makes **{mine}**, your own copy of them.",
    "datasets.name": "Name",
    "datasets.placeholder": "e.g. letters",
    "datasets.rule": "A dataset name is 1 to {limit} characters: letters (any script) and "
    "digits, with '-', '_' and single spaces inside; it must start and end with a letter or "
    "digit",
    "datasets.start": "Start with",
    "datasets.start.starter": "A copy of the starter drawings",
    "datasets.start.empty": "Empty",
    "datasets.create": "Create",
    "datasets.model_taken": "Taken: {model} is another model's file; choose another name",
    "datasets.taken": "Taken: {name} exists already in {folder}",
    "datasets.started_copy": "Started {name} with a copy of {count} starter drawings",
    "datasets.started_empty": "Started {name}, empty: save a drawing under a new class",
    "datasets.made_mine": "Made {name}, your copy of the starter drawings: the starter dataset "
    "stays as shipped",
    "datasets.into_mine": "Into {name}, your copy of the starter drawings: the starter dataset "
    "stays as shipped",
}

KO = {
    # the frame
    "app.title": "shapecnn: 그리고, 이름 붙이고, 학습하기",
    "app.view": "화면",
    "app.language": "언어",
    "view.Draw": "그리기",
    "view.Train": "학습",
    "view.Drawings": "그림 모음",
    # shared
    "spinner.model": "모델을 불러오는 중…",
    "spinner.drawings": "그림을 읽는 중…",
    "label.new_class": "+ 새 클래스…",
    "label.empty": "먼저 새 클래스의 이름을 입력하세요.",
    "dataset_name.empty": "먼저 새 데이터셋의 이름을 입력하세요.",
    "dataset_name.not_a_name": "데이터셋 이름으로 쓸 수 없습니다: {problem}",
    "label.too_long": "너무 깁니다: {length}자 (최대 {limit}자)",
    "label.not_a_name": "클래스 이름으로 쓸 수 없습니다: {problem}",
    "label.case_twin": "대소문자만 다른 클래스가 이미 있습니다: {name}",
    "label.rule": "1~{limit}자: 글자(어느 문자든)와 숫자, 그 사이에 '-', '_', 한 칸 띄어쓰기를 "
    "쓸 수 있습니다. 처음과 끝은 글자나 숫자여야 합니다",
    "model.unusable": "모델 파일을 쓸 수 없습니다: {reason}",
    "split.auto": "자동",
    "split.train": "학습",
    "split.test": "테스트",
    "column.class": "클래스",
    "column.total": "합계",
    "time.just_now": "조금 전",
    "time.seconds_ago": "{count}초 전",
    "time.minutes_ago": "{count}분 전",
    "time.hours_ago": "{count}시간 전",
    "time.yesterday": "하루 전",
    "time.days_ago": "{count}일 전",
    "time.unknown": "알 수 없는 때",
    "duration.tenths": "{seconds:.1f}초",
    "duration.seconds": "{seconds:.0f}초",
    "duration.minutes": "{minutes}분",
    "duration.minutes_seconds": "{minutes}분 {seconds}초",
    "dataset.heading": "데이터셋",
    "dataset.empty": "아직 그림이 없습니다. 그림을 그려 새 클래스로 저장하거나, 예시 그림으로 "
    "시작하세요.",
    "dataset.make_starter": "예시 그림 만들기",
    "dataset.making_starter": "예시 도형 60개를 그리는 중",
    "dataset.made_starter": "그림 {count}개를 만들었습니다",
    # the Draw view
    "draw.title": "도형을 그려 보세요",
    "draw.caption": "그리는 동안 모델이 무엇인지 맞혀 봅니다. 그림에 이름을 붙여 저장하고, "
    "학습시키고, 모델이 나아지는 모습을 지켜보세요.",
    "draw.heading.canvas": "그리기",
    "draw.heading.prediction": "실시간 예측",
    "draw.heading.save": "이름 붙여 저장",
    "draw.clear": "지우기",
    "draw.no_model": "아직 모델이 없습니다. 두 가지 이상의 클래스로 그림을 저장한 다음 캔버스 "
    "아래의 **모델 학습**을 누르세요. 그리는 동안 여기에 예측이 나타납니다.",
    "draw.replace_model": "캔버스 아래의 **모델 학습**을 누르면 새 모델이 이 파일을 대신합니다.",
    "draw.prompt": "캔버스에 도형을 그려 보세요. 펜을 떼면 예측이 나타납니다.",
    "draw.answered_by_model": "{when}에 학습한 모델",
    "draw.answered_by_starter": "도형 기본 모델의 첫 예측 (아직 학습한 모델이 없습니다)",
    "draw.answered_by_starter_training": "도형 기본 모델의 첫 예측 (아직 학습한 모델이 "
    "없습니다. 첫 모델을 학습하는 중입니다)",
    "draw.prediction": "예측",
    "draw.unsure": "잘 모르겠음",
    "draw.closest": "가장 가까운 것: {label}",
    "draw.sure": "확신도 {confidence:.0%}",
    "draw.seen_alt": "모델이 보는 그림",
    "draw.seen_caption": "모델이 보는 모습",
    "draw.augmentation": "학습 때 어떻게 바뀌는지 보기",
    "draw.augmentation_caption": "학습할 때 신경망은 모든 그림을 이처럼 조금씩 바꿔서 봅니다. "
    "살짝 돌리고, 크기를 바꾸고, 늘이고, 기울이고, 옮기고, 선을 굵게 합니다.",
    "save.quick_caption": "이 그림은 … (한 번 누르면 저장됩니다. 지금까지의 학습/테스트 그림 수):",
    "save.quick_help": "{name}: 여기에 저장합니다 (학습 그림 {train}개, 테스트 그림 {test}개)",
    "save.label": "레이블",
    "save.new_class_name": "새 클래스 이름",
    "save.new_class_placeholder": "예: 별",
    "save.learn": "저장할 때마다 학습",
    "save.learn_help": "그림을 저장할 때마다 도형 기본 모델에서 몇 초 만에 다시 학습하므로 "
    "예측에 바로 반영됩니다. 모델 학습은 고른 레시피를 처음부터 끝까지 실행합니다.",
    "save.split": "데이터 분할",
    "save.split_help": "자동: 클래스마다 약 4분의 1은 테스트에, 나머지는 학습에 둡니다",
    "save.button": "그림 저장",
    "save.blank": "캔버스가 비어 있습니다. 먼저 도형을 그리세요.",
    "save.saved": "{path}에 저장했습니다 — {label}: 학습 {train}개, 테스트 {test}개",
    "status.failed": "학습 실패: {error}",
    "status.see_train": "{summary} 레시피, 곡선, 결과는 위쪽 **학습** 화면에 있습니다.",
    # the Train view
    "train.heading": "학습",
    "train.settings": "레시피와 설정",
    "train.recipe": "레시피",
    "recipe.default": "default: 도형 기본 모델에서 시작, 몇 초; 클래스 균형을 맞추고 살짝 변형한 "
    "사본으로",
    "recipe.scratch": "scratch: 튜토리얼 CNN을 처음부터, 강한 증강으로, 손실이 더 나아지지 않을 "
    "때까지",
    "recipe.tutorial": "tutorial: Keras 튜토리얼 그대로: 배치 3, 45스텝짜리 에포크 50번, 증강 없음",
    "train.epochs_at_most": "에포크 (최대)",
    "train.batch_size": "배치 크기",
    "train.learning_rate": "학습률",
    "train.augmentation": "데이터 증강 (회전, 이동, 확대·축소)",
    "train.button": "모델 학습",
    "train.cancel": "취소",
    "train.intro": "데이터셋의 학습 분할로 모델을 학습하고, 테스트 분할로 시험합니다.",
    "train.cannot_start": "학습을 시작할 수 없습니다: {error}",
    "train.already": "이 모델은 이미 학습 중입니다. 그 학습을 보여 드립니다.",
    "train.finished": "학습이 끝났습니다. 이제 새 모델로 예측합니다.",
    "train.cancelled": "취소했습니다. 이전 모델을 그대로 둡니다.",
    "train.unbalanced": "클래스 균형이 맞지 않습니다: {largest}은(는) 학습 그림이 "
    "{largest_count}개이고, {smallest_part}. 모델이 {largest} 쪽으로 기울 것입니다. "
    "{smallest}을(를) 더 그리세요.",
    "train.unbalanced_none": "{smallest}은(는) 하나도 없습니다",
    "train.unbalanced_only": "{smallest}은(는) {smallest_count}개뿐입니다",
    "train.took_whole": "지난 학습은 {duration} 걸렸습니다",
    "train.took_fit": "현재 모델은 학습(fit)에 {duration} 걸렸습니다(불러오기와 저장은 별도)",
    "train.last_run_same": "{took} ({recipe} 레시피, {drawings}). 이번에도 비슷하게 걸릴 것입니다.",
    "train.last_run_other": "{took} ({recipe} 레시피, {drawings}). {chosen} 레시피는 걸리는 "
    "시간이 꽤 다를 수 있습니다.",
    "train.training_drawings.one": "학습 그림 {count}개",
    "train.training_drawings.other": "학습 그림 {count}개",
    "progress.starting": "TensorFlow를 시작하는 중",
    "progress.loading": "그림을 불러오는 중",
    "progress.training.one": "그림 {count}개로 학습하는 중",
    "progress.training.other": "그림 {count}개로 학습하는 중",
    "progress.epoch": "에포크 {epoch} / 최대 {epochs}",
    "progress.cancelling": "취소하는 중",
    "train.loss_curve": "에포크별 손실",
    "train.accuracy_curve": "에포크별 정확도",
    "chart.epoch": "에포크",
    "chart.loss": "손실",
    "chart.accuracy": "정확도",
    "chart.drawings": "그림",
    "chart.true_class": "실제 클래스",
    "chart.predicted": "예측한 클래스",
    "train.all_right": "테스트 그림을 모두 맞혔습니다.",
    "train.wrong": "**틀린 테스트 그림** ({count}): 하나를 눌러 레이블을 바꾸거나 삭제하세요",
    "train.changed.one": "이 모델을 학습한 뒤 그림 {count}개가 바뀌었습니다. 다시 학습하면 "
    "바뀐 내용을 배웁니다.",
    "train.changed.other": "이 모델을 학습한 뒤 그림 {count}개가 바뀌었습니다. 다시 학습하면 "
    "바뀐 내용을 배웁니다.",
    "train.more": "외 {count}개 더",
    "fix.moved_mark": "**{label}(으)로 옮김**, 아직 다시 학습하지 않음",
    "fix.deleted_mark": "**삭제함**, 아직 다시 학습하지 않음",
    "fix.gone": "학습한 뒤에 없어짐",
    "fix.pick": "레이블 바꾸기…",
    "fix.picked": "선택됨",
    "fix.filed": "`{name}` ({split}): 저장된 클래스는 **{true}**, 모델의 답은 **{predicted}** "
    "({confidence:.0%})입니다.",
    "fix.target": "올바른 클래스",
    "fix.delete": "삭제",
    "fix.close": "닫기",
    "fix.deleted": "{split}/{label}에서 {name}을(를) 삭제했습니다. 다시 학습하면 모델이 이를 "
    "배웁니다.",
    "fix.moved": "{name}을(를) {split}/{old}에서 {split}/{new}(으)로 옮겼습니다. 다시 학습하면 "
    "모델이 이를 배웁니다.",
    "train.current_results": "현재 모델의 결과 ({when}에 학습):",
    "train.test_accuracy": "테스트 정확도",
    "train.of_tested.one": "테스트 그림 {count}개 중",
    "train.of_tested.other": "테스트 그림 {count}개 중",
    "train.epochs": "에포크",
    "train.time": "학습 시간",
    "train.drawings": "그림",
    "train.drawings_help": "학습 그림 수",
    "train.no_test_data": "테스트 데이터가 없어 처음 보는 그림에 대한 정확도는 알 수 없습니다.",
    "train.note": "학습 메모: {note}",
    "train.no_test": "{name}: 테스트 그림이 없어 얼마나 잘 알아보는지 알 수 없습니다.",
    "train.small_test.one": "{name}: 테스트 그림 {count}개 중 {score:.0%}로는 알 수 있는 것이 "
    "적습니다. 제대로 시험하려면 {least}개 이상 저장하세요.",
    "train.small_test.other": "{name}: 테스트 그림 {count}개 중 {score:.0%}로는 알 수 있는 것이 "
    "적습니다. 제대로 시험하려면 {least}개 이상 저장하세요.",
    "train.small_test_rest.one": "테스트 그림이 {least}개보다 적은 클래스가 {count}개 더 있습니다.",
    "train.small_test_rest.other": "테스트 그림이 {least}개보다 적은 클래스가 {count}개 더 "
    "있습니다.",
    "train.skipped.one": "읽을 수 없는 파일 {count}개를 건너뛰었습니다: {files}",
    "train.skipped.other": "읽을 수 없는 파일 {count}개를 건너뛰었습니다: {files}",
    "train.per_class": "**클래스별 정확도**",
    "train.of_column": "그림 수",
    "train.of_help": "이 클래스의 테스트 그림 수",
    "train.accuracy_column": "정확도",
    "train.confusion": "**혼동 행렬** (행: 실제 클래스, 열: 예측한 클래스)",
    "train.model_heading": "모델",
    "train.replace_model": "**모델 학습**을 누르면 새 모델이 이 파일을 대신합니다.",
    "train.no_model": "아직 모델이 없습니다. **모델 학습**을 누르세요 (여기나 캔버스 아래에서).",
    "train.classes": "클래스",
    "train.class_list": "**클래스:** {names}",
    "train.trained": "{when}에 학습{epochs} · 레시피 {recipe}",
    "train.epochs_run.one": " · 에포크 {count}번",
    "train.epochs_run.other": " · 에포크 {count}번",
    "train.trained_on": "학습에 쓴 그림",
    "train.download": "{name} 내려받기 ({size:.1f} MB)",
    "train.mismatch": "데이터셋의 클래스가 모델과 다릅니다: {differences}. 다시 학습하세요.",
    "train.mismatch_new": "모델이 모르는 클래스 {names}",
    "train.mismatch_gone": "데이터셋에 폴더가 없는 클래스 {names}",
    "summary.none": "아직 모델이 없습니다.",
    "summary.model": "현재 모델: {when}에 학습.",
    "summary.model_accuracy": "현재 모델: {when}에 학습, 테스트 분할에서 {accuracy:.0%}.",
    "summary.problem": "{problem} (학습하면 새 모델로 바뀝니다).",
    # the Drawings view
    "browse.heading": "그림 둘러보기",
    "browse.empty": "아직 그림이 없습니다. 저장한 그림이 여기에 나타납니다.",
    "browse.class": "클래스",
    "browse.split": "데이터 분할",
    "browse.page": "페이지 (전체 {pages})",
    "browse.none": "{label}의 {split} 그림이 없습니다.",
    "browse.total.one": "그림 {count}개, {order}. 그림을 누르면 선택됩니다.",
    "browse.total.other": "그림 {count}개, {order}. 그림을 누르면 선택됩니다.",
    "browse.in_order.newest": "최신순",
    "browse.in_order.disagrees": "모델과 가장 어긋나는 것부터",
    "browse.with_verdicts": " 그림 아래에는 모델이 본 클래스가 나옵니다.",
    "browse.order_label": "순서",
    "browse.order.newest": "최신순",
    "browse.order.disagrees": "모델과 가장 어긋나는 순",
    "browse.order_help": "모델과 가장 어긋나는 순: 모델이 다른 클래스로 보는 그림을, 가장 "
    "확신하는 것부터 보여 줍니다. 잘못된 클래스로 저장됐을 가능성이 큰 그림입니다",
    "browse.verdict": "모델의 답: {label} ({confidence:.0%})",
    "browse.verdict_unsure": "잘 모르겠음. 가장 가까운 것: {label} ({confidence:.0%})",
    "browse.unreadable": "읽을 수 없음",
    "browse.select_all": "모두 선택 ({count})",
    "browse.select_all_help": "{label}의 {split} 그림 전부 (모든 페이지)",
    "browse.select_none": "선택 해제",
    "browse.bin.one": "{label}({split})의 그림 {count}개를 삭제했습니다. 데이터셋의 휴지통에 "
    "{days}일 동안 보관됩니다.",
    "browse.bin.other": "{label}({split})의 그림 {count}개를 삭제했습니다. 데이터셋의 휴지통에 "
    "{days}일 동안 보관됩니다.",
    "browse.undo": "되돌리기",
    "browse.restored.one": "{label}의 그림 {count}개를 되돌려 놓았습니다",
    "browse.restored.other": "{label}의 그림 {count}개를 되돌려 놓았습니다",
    "browse.delete": "삭제{count}",
    "browse.move_split": "{split} 분할로 옮기기{count}",
    "browse.other_class": "다른 클래스",
    "browse.move_class": "{target} 클래스로 옮기기{count}",
    "browse.move": "옮기기",
    "drawings.count.one": "그림 {count}개",
    "drawings.count.other": "그림 {count}개",
    "drawings.deleted.one": "그림 {count}개를 삭제했습니다",
    "drawings.deleted.other": "그림 {count}개를 삭제했습니다",
    "drawings.moved.one": "{split}/{label}에 옮겼습니다: 그림 {count}개",
    "drawings.moved.other": "{split}/{label}에 옮겼습니다: 그림 {count}개",
    "class.expander": "클래스 {label} 이름 바꾸기·삭제",
    "class.new_name": "{label}의 새 이름",
    "class.rename": "이름 바꾸기",
    "class.confirm": "클래스 {label}: 이 클래스와 {drawings}(학습 {train}개, 테스트 {test}개)를 "
    "삭제할까요? 되돌릴 수 없습니다.",
    "class.confirm_button": "{label} 클래스와 그림 삭제",
    "class.keep": "그대로 두기",
    "class.delete": "클래스 {label} 삭제…",
    "class.delete_help": "먼저 확인합니다. 클래스와 그 안의 그림이 모두 삭제됩니다",
    "class.same_name": "클래스 이름이 이미 {old}입니다.",
    "class.renamed": "클래스 이름을 바꿨습니다: {old} → {new}",
    "class.deleted": "삭제했습니다: 클래스 {label}, {drawings}",
    "drawings.checking": "데이터셋의 모든 파일을 확인하는 중…",
    "drawings.problems.one": "데이터셋의 파일 {count}개를 쓸 수 없어 학습에서 건너뜁니다.",
    "drawings.problems.other": "데이터셋의 파일 {count}개를 쓸 수 없어 학습에서 건너뜁니다.",
    "drawings.skipped_files": "학습에서 건너뛰는 파일",
    "drawings.more_problems": "외 {count}개 더: python -m shapecnn info",
    "column.file": "파일",
    "column.problem": "문제",
    "column.why": "이유",
    "import.heading": "그림 가져오기",
    "import.files": "PNG나 JPEG 그림, 또는 클래스 폴더를 담은 .zip",
    "import.help": "한 번에 최대 {limit} MB, 한 번 방문에 모두 합쳐 최대 {session_limit} MB. "
    "zip에는 <class>/<image> 또는 "
    "train|test/<class>/<image> 구조로 담습니다. 그림으로 쓸 수 없는 파일은 건너뛰고 목록으로 "
    "보여 줍니다.",
    "import.refused": "올리기를 거절했습니다: 이 세션은 이미 {sent:.0f} MB를 보냈습니다 "
    "(최대 {limit} MB, 이 파일들: {size:.0f} MB)",
    "import.class": "그림의 클래스",
    "import.button": "가져오기",
    "import.working": "그림을 확인하고 가져오는 중",
    "import.failed": "가져오기 실패: {error}",
    "import.done.one": "그림 {count}개를 가져왔습니다",
    "import.done.other": "그림 {count}개를 가져왔습니다",
    "import.skipped.one": "파일 {count}개를 건너뛰었습니다:",
    "import.skipped.other": "파일 {count}개를 건너뛰었습니다:",
    "settings.heading": "설정",
    "settings.where": "데이터셋 `{data}`  \n모델 `{model}`\n\n다른 폴더로 시작하려면 "
    "`streamlit run app.py -- --data DIR --model PATH`로 실행하거나 `SHAPECNN_DATA`와 "
    "`SHAPECNN_MODEL`을 설정하세요.",
    # the look inside (Draw view)
    "inside.toggle": "신경망 속 들여다보기",
    "inside.help": "신경망의 각 층이 그림을 어떻게 보는지, 답이 그림의 어느 부분에 기대는지 "
    "보여 줍니다. 획마다 수십 밀리초가 더 듭니다.",
    "inside.no_layers": "이 모델 파일에는 층 출력이 없습니다. 속을 보려면 다시 학습하세요.",
    "inside.no_model": "아직 학습된 모델이 없습니다. 모델을 학습하면 신경망 속을 볼 수 있습니다.",
    "inside.conv1.title": "첫 번째 합성곱: {height}x{width} 맵 {count}개",
    "inside.conv1.text": "작은 3x3 필터 {count}개가 각각 24x24 그림 위를 훑으며 자기 무늬를 찾은 "
    "곳에서 밝아집니다: 한 각도의 가장자리, 선의 끝, 어두운 점.",
    "inside.conv2.title": "두 번째 합성곱: {height}x{width} 맵 {count}개",
    "inside.conv2.text": "필터 {count}개가 각각 첫 번째 층의 맵을 한꺼번에 읽으므로, 그 무늬들로 "
    "이루어진 더 큰 무늬에 반응합니다: 모서리, 곡선, 만나는 두 획.",
    "inside.pooled.title": "풀링: {height}x{width} 맵 {count}개",
    "inside.pooled.text": "최대 풀링은 두 번째 층 맵의 2x2 칸마다 가장 강한 반응만 남깁니다: 맵은 "
    "절반으로 줄고, 한 픽셀 옮겨진 무늬도 그대로 셉니다.",
    "inside.occlusion.title": "답이 기대는 곳",
    "inside.occlusion.text": "그림의 {patch}x{patch} 부분을 하나씩 지워 보았습니다"
    "(사본 {patches}개, 신경망 한 번 실행): 빨간 곳은 지우면 “{label}”이라는 확신이 줄고, "
    "파란 곳은 늘어납니다. "
    "가장 기대는 부분만 지우면 {label}의 확률이 {lowest}가 됩니다.",
    "inside.legend": "맵: 흰색은 찾은 것이 없음, 짙은 파랑일수록 강한 반응(층마다 한 척도).",
    # datasets (the top of the page)
    "datasets.box": "데이터셋",
    "datasets.new": "새 데이터셋",
    "datasets.note": "데이터셋마다 자기 그림과 자기 모델이 있습니다. 위치: `{folder}`.",
    "datasets.note_starter": " 시작 그림(`{starter}`)은 받은 그대로 둡니다: 처음 저장하면 그 "
    "사본인 **{mine}**이 만들어집니다.",
    "datasets.name": "이름",
    "datasets.placeholder": "예: letters",
    "datasets.rule": "데이터셋 이름은 1~{limit}자: 글자(어느 문자든)와 숫자, 그 사이에 '-', '_', "
    "한 칸 띄어쓰기를 쓸 수 있습니다. 처음과 끝은 글자나 숫자여야 합니다",
    "datasets.start": "시작",
    "datasets.start.starter": "시작 그림의 사본",
    "datasets.start.empty": "비어 있음",
    "datasets.create": "만들기",
    "datasets.model_taken": "이미 있음: {model}은(는) 다른 모델의 파일입니다. 다른 이름을 고르세요",
    "datasets.taken": "이미 있음: {name}이(가) {folder}에 있습니다",
    "datasets.started_copy": "{name}을(를) 시작 그림 {count}개의 사본으로 시작했습니다",
    "datasets.started_empty": "{name}을(를) 비어 있는 채로 시작했습니다. "
    "새 클래스로 그림을 저장하세요",
    "datasets.made_mine": "시작 그림의 내 사본 {name}을(를) 만들었습니다. 시작 그림은 받은 "
    "그대로 둡니다",
    "datasets.into_mine": "시작 그림의 내 사본 {name}에 넣었습니다. 시작 그림은 받은 그대로 둡니다",
}

CATALOGUES = {"en": EN, "ko": KO}


def language() -> str:
    """This session's language: the picker's choice (app.py), else English."""
    chosen = state.widget_value(state.Key.LANGUAGE)
    return chosen if chosen in CATALOGUES else DEFAULT_LANGUAGE


def t(key: str, **values) -> str:
    """The text for `key` in this session's language, with `values` put into its placeholders."""
    text = CATALOGUES[language()][key]
    return text.format(**values) if values else text


def shown_as(prefix: str):
    """A widget's format_func for choices whose texts are `prefix + choice` in the catalogue
    (view.Draw, split.auto): bound to this session's language now, so it also works where
    Streamlit calls it outside the script's run (AppTest does)."""
    texts = CATALOGUES[language()]
    return lambda choice: texts.get(f"{prefix}{choice}", str(choice))


def tn(key: str, count: int, **values) -> str:
    """A text about `count` things: `key.one` for one, `key.other` for any other number (Korean
    has one form; English has two)."""
    return t(f"{key}.one" if count == 1 else f"{key}.other", count=count, **values)


def time_ago(then: datetime, now: datetime) -> str:
    """How long ago, as a person says it: 'just now', '40 s ago', '2 min ago', '3 h ago',
    'yesterday', '5 days ago'; the date itself after a month."""
    seconds = (now - then).total_seconds()
    if seconds < 10:
        return t("time.just_now")  # also a clock a little ahead of this one
    if seconds < 60:
        return t("time.seconds_ago", count=int(seconds))
    if seconds < 3600:
        return t("time.minutes_ago", count=int(seconds // 60))
    if seconds < 86400:
        return t("time.hours_ago", count=int(seconds // 3600))
    days = int(seconds // 86400)
    if days == 1:
        return t("time.yesterday")
    if days < 31:
        return t("time.days_ago", count=days)
    return then.strftime("%Y-%m-%d")


def duration(seconds: float) -> str:
    """'0.4 s', '35 s', '2 min 5 s'."""
    if seconds < 10:
        return t("duration.tenths", seconds=seconds)
    if seconds < 60:
        return t("duration.seconds", seconds=seconds)
    minutes, rest = divmod(round(seconds), 60)
    if rest:
        return t("duration.minutes_seconds", minutes=minutes, seconds=rest)
    return t("duration.minutes", minutes=minutes)
