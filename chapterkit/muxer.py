"""Every FFmpeg command chapterkit runs, built with ffmpeg-python in this one module.

CONTRACT (stub written by the integrator; the implementer fills it in and may add
private helpers, but keeps these public names and signatures):

    FFmpegBinary(path: str, source: str, version: str)
        source is "option" | "env" | "path" | "bundled".
    find_ffmpeg(explicit: str | None = None) -> FFmpegBinary
        order: explicit (--ffmpeg), $CHAPTERKIT_FFMPEG, `ffmpeg` on PATH,
        imageio-ffmpeg's bundled binary. Raises FFmpegError when none works.
    StreamInfo(index: int, kind: str, codec: str, tag: str | None, language: str | None,
               disposition: tuple[str, ...], is_chapter_track: bool)
        kind is "video" | "audio" | "subtitle" | "data" | "attachment".
    MediaInfo(format_name: str, duration_ns: int | None, start_time_ns: int,
              streams: tuple[StreamInfo, ...])
    probe(media: str, ffmpeg: FFmpegBinary | None = None) -> MediaInfo
        from `ffmpeg -i media` (no ffprobe is bundled); raises MediaError naming the
        file and FFmpeg's own reason for non-media, truncated or stream-less input.
    build_embed_argv(ffmpeg: str, media: str, metadata: str, output: str, *,
                     output_format: str, drop_streams: Sequence[int] = (),
                     movie_timescale: int | None = None) -> list[str]
        PURE. `ffmpeg -i media -f ffmetadata -i metadata -map 0 [-map -0:N ...]
        -map_chapters 1 -c copy ... -f output_format output`.
    build_dump_argv(ffmpeg: str, media: str) -> list[str]
        PURE. `ffmpeg -i media -f ffmetadata -` (used by the libav reader).
    run(argv: Sequence[str], *, path: str, verb: str, fsize_limit: int | None = None) -> str
        runs FFmpeg, returns stdout text; on failure raises FFmpegError whose
        message carries FFmpeg's last stderr lines. fsize_limit sets RLIMIT_FSIZE
        on the child (tests use it to simulate a full disk).
    dump_ffmetadata(media: str, ffmpeg: FFmpegBinary | None = None) -> str
"""

from __future__ import annotations
