"""shapecnn: teach a small CNN to recognise hand-drawn shapes.

`from shapecnn import Classifier` works, but TensorFlow (about 4.5 s to import) is only loaded
when a name that needs it is first used, so the dataset tools and the CLI's quick commands stay
quick.
"""

__version__ = "0.1.0"
__all__ = ["Classifier", "train"]


def __getattr__(name):
    if name == "Classifier":
        from shapecnn.inference import Classifier

        return Classifier
    if name == "train":
        from shapecnn.training import train

        return train
    raise AttributeError(f"module 'shapecnn' has no attribute {name!r}")
