"""The import's garbage collection: automatic trigger off while imports run, restored after."""

from __future__ import annotations

import gc
import weakref

from tenure.ingest.collection import chunk_done, collected_per_chunk


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_the_trigger_is_off_inside_and_restored_by_the_last_import_out() -> None:
    assert gc.isenabled()
    with collected_per_chunk():
        assert not gc.isenabled()
        with collected_per_chunk():  # a second import at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collected_per_chunk():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_each_chunk_frees_the_cycles_it_left() -> None:
    with collected_per_chunk():
        node = Node()
        ref = weakref.ref(node)
        del node
        assert ref() is not None  # the automatic trigger would not come for it
        chunk_done()
        assert ref() is None
