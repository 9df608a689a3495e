"""The in-place plan model: apply matches replay, and crash images cover the crash model."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit.inplace import SECTOR, PlanError, Sync, Truncate, Write, apply, check_plan, crash_images, replay

ops = st.one_of(
    st.builds(Write, st.integers(0, 3000), st.binary(min_size=1, max_size=1500)),
    st.builds(Truncate, st.integers(0, 4000)),
    st.just(Sync()),
)


@given(st.binary(max_size=3000), st.lists(ops, max_size=6))
def test_apply_on_a_real_file_equals_replay_in_memory(tmp_path_factory, original, plan):
    path = tmp_path_factory.mktemp("plan") / "file.bin"
    path.write_bytes(original)
    fd = os.open(path, os.O_RDWR)
    try:
        apply(fd, plan)
    finally:
        os.close(fd)
    assert path.read_bytes() == bytes(replay(bytearray(original), plan))


def test_crash_images_hold_the_old_state_the_new_state_and_every_pending_subset():
    original = bytes(2048)
    plan = (Write(4096, b"N" * 1500), Sync(), Write(10, b"S", switch=True), Sync(), Write(4096, b"F" * 4))
    images = dict(crash_images(original, plan))
    values = set(images.values())
    assert original in values
    final = bytes(replay(bytearray(original), plan))
    assert final in values
    # The data write may be torn at a sector boundary before the first sync.
    torn = [label for label in images if "torn" in label]
    assert torn
    # Never an image where the switch landed but the data it points at did not.
    for image in values:
        if image[10:11] == b"S":
            assert image[4096:4096 + 4] in (b"NNNN", b"FFFF")


def test_a_switch_must_sit_in_one_sector_between_two_syncs():
    check_plan((Sync(), Write(SECTOR - 2, b"ab", switch=True), Sync()))
    with pytest.raises(PlanError, match="crosses"):
        check_plan((Sync(), Write(SECTOR - 1, b"ab", switch=True), Sync()))
    with pytest.raises(PlanError, match="preceded"):
        check_plan((Write(0, b"a", switch=True), Sync()))
    with pytest.raises(PlanError, match="followed"):
        check_plan((Sync(), Write(0, b"a", switch=True)))
