"""mkvalidator-style structure checks for Matroska files (a test helper).

Walks every top-level element of the Segment by its size (Clusters included, their
blocks skipped by size), and checks what a damaged in-place edit would break:
EBML sizes that fit their parent and the Segment size against the file, every
SeekHead entry pointing at an element with the ID it names, every Cues
CueClusterPosition pointing at a Cluster, and no more than one Chapters element
reachable by a walk or by SeekHead entries (mkvextract merges all it reaches).
"""

from __future__ import annotations

import os

from chapterkit.containers import matroska as mk
from chapterkit.containers.ebml import VOID_ID, iter_children, parse_header, uint

CUE_POINT, CUE_TRACK_POSITIONS, CUE_CLUSTER_POSITION = 0xBB, 0xB7, 0xF1


def check_structure(path: str | os.PathLike[str]) -> dict:
    """Raise AssertionError naming the fault; return a summary of what was walked."""
    data = open(path, "rb").read()
    head = parse_header(data, 0)
    assert head.id == mk.EBML, "no EBML header"
    list(iter_children(data, head.data_offset, head.end))
    segment = parse_header(data, head.end)
    assert segment.id == mk.SEGMENT, "no Segment after the EBML header"
    start = segment.data_offset
    end = len(data) if segment.size is None else segment.end
    # After a known-size Segment only Void elements may follow: a first in-place edit appends
    # its element inside a root-level Void (RFC 8794 makes Void a Global Element, section 11.3)
    # and grows the Segment over it only after a sync, so a crash between the two leaves exactly
    # that; ffprobe, mkvextract and chapterkit read such files (the crash-image tests).
    tail = end
    while tail < len(data):
        trailing = parse_header(data, tail)
        assert trailing.id == VOID_ID and trailing.size is not None and trailing.end <= len(data), \
            f"the Segment ends at {end}, the file at {len(data)}, and what follows is not a Void"
        tail = trailing.end

    elements: dict[int, int] = {}
    pos = start
    while pos < end:
        header = parse_header(data, pos, end)
        if header.size is None:
            assert header.id == mk.CLUSTER, f"unknown-size element 0x{header.id:X} at {pos}"
            pos = header.data_offset
            while pos < end:  # blocks until the next top-level element
                child = parse_header(data, pos, end)
                if child.id in mk._TOP_LEVEL:
                    break
                pos = child.end
            elements[header.offset] = header.id
            continue
        assert header.end <= end, f"element 0x{header.id:X} at {pos} overruns the Segment"
        if header.id != mk.CLUSTER and header.id != VOID_ID:
            list(iter_children(data, header.data_offset, header.end))  # children fit their parent
        elements[pos] = header.id
        pos = header.end
    assert pos == end, f"the last element ends at {pos}, past the Segment's end {end}"
    seek_targets = _seek_entries(data, start, elements)
    for element_id, offset in seek_targets:
        assert elements.get(offset) == element_id, \
            f"SeekHead entry 0x{element_id:X} -> {offset} holds 0x{elements.get(offset, 0):X}"
    cues = [offset for offset, element_id in elements.items() if element_id == mk.CUES]
    clusters = {offset for offset, element_id in elements.items() if element_id == mk.CLUSTER}
    checked = 0
    for offset in cues:
        cue = parse_header(data, offset)
        for point in iter_children(data, cue.data_offset, cue.end):
            if point.id != CUE_POINT:
                continue
            for track in iter_children(data, point.data_offset, point.end):
                if track.id != CUE_TRACK_POSITIONS:
                    continue
                for child in iter_children(data, track.data_offset, track.end):
                    if child.id == CUE_CLUSTER_POSITION:
                        target = start + uint(data[child.data_offset:child.end])
                        assert target in clusters, f"a CueClusterPosition points at {target}, no Cluster"
                        checked += 1
    walked = {offset for offset, element_id in elements.items() if element_id == mk.CHAPTERS}
    sought = {offset for element_id, offset in seek_targets if element_id == mk.CHAPTERS}
    assert len(walked | sought) <= 1, f"{len(walked | sought)} Chapters elements are reachable"
    return {"elements": len(elements), "cue_positions": checked, "chapters": sorted(walked | sought)}


def _seek_entries(data: bytes, start: int, elements: dict[int, int]) -> list[tuple[int, int]]:
    entries = []
    for offset, element_id in elements.items():
        if element_id != mk.SEEK_HEAD:
            continue
        header = parse_header(data, offset)
        for seek in iter_children(data, header.data_offset, header.end):
            if seek.id != mk.SEEK:
                continue
            target = position = None
            for child in iter_children(data, seek.data_offset, seek.end):
                if child.id == mk.SEEK_ID:
                    target = int.from_bytes(data[child.data_offset:child.end], "big")
                elif child.id == mk.SEEK_POSITION:
                    position = uint(data[child.data_offset:child.end])
            entries.append((target, start + position))
    return entries
