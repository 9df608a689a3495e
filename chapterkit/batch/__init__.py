"""Chapter or check a whole export folder in one command (``chapterkit batch``).

- :mod:`~chapterkit.batch.discover`: media by content, sidecar sources by registry extension,
  manifests, shards.
- :mod:`~chapterkit.batch.work`: one file (embed, up-to-date test, check) and the parallel run.
- :mod:`~chapterkit.batch.report`: the ``chapterkit.batch/2`` JSON document and its text,
  JUnit and GitHub renderings, and ``report merge``.
- :mod:`~chapterkit.batch.progress`: the progress bar or plain lines on stderr.
"""

from __future__ import annotations

from chapterkit.batch.discover import Job, find_jobs, parse_shard, read_manifest, shard
from chapterkit.batch.report import SCHEMA, merge, render, to_document, verdict
from chapterkit.batch.work import BatchReport, Outcome, Settings, process, run

__all__ = ["SCHEMA", "BatchReport", "Job", "Outcome", "Settings", "find_jobs", "merge", "parse_shard", "process",
           "read_manifest", "render", "run", "shard", "to_document", "verdict"]
