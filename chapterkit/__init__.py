"""chapterkit: put chapters into video and audio files, and prove they landed.

The library is the model (:mod:`chapterkit.model`), the text formats
(:mod:`chapterkit.formats`), the container readers (:mod:`chapterkit.containers`),
``verify`` and ``embed``. This module stays tiny so the CLI starts fast.
"""

from chapterkit.model import Chapter, ChapterList

__version__ = "0.1.0"

__all__ = ["Chapter", "ChapterList", "__version__"]
