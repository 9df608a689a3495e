"""chapterkit: put chapters into video and audio files, and prove they landed.

The library is the model (:mod:`chapterkit.model`), the text formats
(:mod:`chapterkit.formats`), the container readers (:mod:`chapterkit.containers`),
``verify`` and ``embed``. This module stays tiny so the CLI starts fast: the
model is imported on first use (PEP 562), so the console entry can install its
Ctrl-C handler before anything heavy loads (:mod:`chapterkit._entry`).
"""

__version__ = "0.1.0"

__all__ = ["Chapter", "ChapterList", "__version__"]


def __getattr__(name: str):
    if name in ("Chapter", "ChapterList"):
        from chapterkit import model

        return getattr(model, name)
    raise AttributeError(f"module 'chapterkit' has no attribute {name!r}")
