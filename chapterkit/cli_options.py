"""The options every command that reads a chapter source shares, and the ``convert`` edits.

:func:`chapter_source_options` adds ``--from`` ``--fps`` ``--duration`` ``--rules``
``--lenient`` ``--language`` ``--timeline-start`` ``--marker-color`` to a click
command and hands it ``from_format`` and a ready
:class:`~chapterkit.formats.base.ParseOptions` called ``options``, so ``parse``,
``convert``, ``verify`` and ``embed`` take chapter sources the same way.

Format names in ``--from``/``--to`` are listed lazily (the registry is imported
when help or a value needs it, not when ``chapterkit`` starts).
"""

from __future__ import annotations

import functools

import click

from chapterkit.errors import UsageError

RULES = ("youtube", "basic")


class Duration(click.ParamType):
    """Seconds (``90.5``) or a clock (``1:02:03.5``) as integer ns."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from chapterkit.timecode import parse_clock

        try:
            return parse_clock(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class FormatChoice(click.Choice):
    """The registry's format names (``writable``: only those ``--to`` can write), looked up when needed."""

    def __init__(self, writable: bool = False) -> None:
        self.writable = writable
        super().__init__((), case_sensitive=True)

    @property
    def choices(self):
        from chapterkit import formats

        return tuple(formats.writable() if self.writable else formats.FORMATS)

    @choices.setter
    def choices(self, _value) -> None:  # click.Choice.__init__ assigns it
        pass


def to_option(required: bool = False, help_text: str = "Output format (one of the names in brackets)"):
    return click.option("--to", "to_format", type=FormatChoice(writable=True), required=required, help=help_text + ".")


def chapter_source_options(command):
    """Add the chapter-source options to ``command``; it receives ``from_format`` and ``options``."""
    @functools.wraps(command)
    def wrapper(*args, fps, duration, rules, lenient, language, timeline_start, marker_color, **kwargs):
        kwargs["options"] = build_options(duration_ns=duration, lenient=lenient, fps=fps, rules=rules,
                                          language=language, timeline_start=timeline_start,
                                          marker_color=marker_color,
                                          split_flattened=kwargs.pop("split_flattened", False))
        return command(*args, **kwargs)

    decorators = [
        click.option("--from", "from_format", type=FormatChoice(), default=None,
                     help="Input format (default: detected from content, then extension)."),
        click.option("--fps", help="Frame rate for frame-based timecodes (25, 29.97, 30000/1001); "
                     "29.97 means 30000/1001."),
        click.option("--duration", type=Duration(), help="Media duration (seconds or H:MM:SS), where a "
                     "format needs ends (webvtt)."),
        click.option("--rules", type=click.Choice(RULES), default="youtube", show_default=True,
                     help="For description text: youtube refuses lists breaking YouTube's rules; basic warns."),
        click.option("--lenient", is_flag=True, help="Repair the list instead of refusing it."),
        click.option("--language", help="Title language to show where a chapter has several (mkvxml: de, ger, en-US)."),
        click.option("--timeline-start", metavar="TC", help="Editor timeline start timecode subtracted from "
                     "marker times (default: the format decides, e.g. 01:00:00:00)."),
        click.option("--marker-color", metavar="NAME", help="Keep only editor markers of this colour."),
    ]
    for decorate in reversed(decorators):
        wrapper = decorate(wrapper)
    return wrapper


def build_options(*, duration_ns=None, lenient=False, fps=None, rules="youtube", language=None,
                  timeline_start=None, marker_color=None, split_flattened=False):
    """A :class:`ParseOptions` from option values; a bad ``--fps`` is a :class:`UsageError`."""
    from chapterkit.formats.base import ParseOptions

    rate = None
    if fps:
        from chapterkit.edits import parse_fps

        try:
            rate = parse_fps(fps)
        except UsageError:
            raise UsageError(f"--fps {fps!r} is not a positive number (e.g. 25, 29.97, 30000/1001)") from None
    return ParseOptions(duration_ns=duration_ns, lenient=lenient, fps=rate, split_flattened=split_flattened,
                        rules=rules, timeline_start=timeline_start, marker_color=marker_color,
                        language=language)


def edit_options(command):
    """Add ``convert``'s edits; the command receives ``plan`` (an :class:`~chapterkit.edits.EditPlan`)."""
    @functools.wraps(command)
    def wrapper(*args, shift, scale, clip, drop, rename, fill_titles, **kwargs):
        from chapterkit import edits

        kwargs["plan"] = edits.EditPlan(
            rename=tuple(edits.parse_rename(text) for text in rename), drop=tuple(drop),
            scale=edits.parse_scale(scale) if scale else None, clip=edits.parse_clip(clip) if clip else None,
            shift_ns=edits.parse_shift(shift) if shift else 0, fill_titles=fill_titles)
        return command(*args, **kwargs)

    decorators = [
        click.option("--shift", metavar="±DURATION", help="Move every chapter (e.g. -30 after trimming a 30 s "
                     "intro, +1:00); chapters ending before 0 are dropped, with a note."),
        click.option("--scale", metavar="FROM:TO", help="Frame-rate conversion, e.g. 25:24000/1001."),
        click.option("--clip", metavar="START-END", help="Keep START-END (or START-) of the timeline, moved to 0; "
                     "chapters outside are dropped, with a note."),
        click.option("--drop", metavar="GLOB", multiple=True, help="Leave out chapters whose title matches "
                     "(case-insensitive; repeatable), e.g. 'Sponsor*'."),
        click.option("--rename", metavar="N=TITLE", multiple=True, help="Retitle chapter N (as `parse` numbers "
                     "them; repeatable)."),
        click.option("--fill-titles", metavar="TEMPLATE", help="Title untitled chapters, e.g. 'Chapter {n}'."),
    ]
    for decorate in reversed(decorators):
        wrapper = decorate(wrapper)
    return wrapper


__all__ = ["Duration", "FormatChoice", "UsageError", "build_options", "chapter_source_options", "edit_options",
           "to_option"]
