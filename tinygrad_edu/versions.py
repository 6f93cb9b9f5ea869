"""What keeps a graph's saved arrays from changing underneath it: locks and versions.

Two mechanisms, one per kind of write:

* **Locks** catch every write from outside the library. While a live graph holds an array (an
  op saved it for backward, or it is an op's index), the array and its bases are made
  read-only (numpy's `writeable` flag), counted per array so that several graphs, and views of
  one base, share the lock. Any outside write (`X[:] = 0`, `t.data[...] = v`, `np.add(..., out=)`)
  then fails at once with numpy's "read-only" error. The lock is released when backward frees
  the saved arrays or when the graph is dropped. The one hole: a view made *before* the lock
  stays writeable (numpy has no way to reach existing views).
* **Versions** catch the library's own in-place writes (`add_`, `copy_`, optimizers). They lift
  the lock for the duration of the write and stamp the array's root base with the next tick of
  one clock, before and after writing; backward refuses an array stamped after its op ran, and
  checks again after the op's backward, so a write racing a backward in another thread is
  caught too.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["clock", "array_version", "lock", "release", "is_locked", "holds_arrays", "write"]

# One clock for all in-place changes. Each op notes the tick it ran at; backward looks at the
# stamps only when the clock has moved since then, so the common case costs one comparison.
clock = [0]
_stamps: dict[int, tuple[weakref.ref, int]] = {}
# id(array) -> how many graph nodes hold it; ids whose `writeable` flag is to be given back at
# zero. (Ints and a set, not a list per array: a million-node graph must not hand the cyclic
# garbage collector a million containers to scan. A held array is alive, so its id is its own.)
_counts: dict[int, int] = {}
_restore: set[int] = set()
# Reentrant: a graph dropped while the guard is held (the cyclic collector can run at any
# allocation) releases its locks from `__del__` in the same thread.
_guard = threading.RLock()  # ticks never coincide; lock counts never lose an update
_acquire, _release_guard = _guard.acquire, _guard.release


def root_base(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` views (itself if it owns it)."""
    base = array.base
    while isinstance(base, np.ndarray):
        array, base = base, base.base
    return array


def _stamp(base: np.ndarray) -> int:
    key = id(base)
    clock[0] += 1
    tick = clock[0]
    entry = _stamps.get(key)
    if entry is not None and entry[0]() is base:
        ref = entry[0]
    else:  # forget the stamp when the array dies: a later array with its id starts at 0
        ref = weakref.ref(base, functools.partial(_forget, key))
    _stamps[key] = (ref, tick)
    return tick


def _forget(key: int, _: object) -> None:
    _stamps.pop(key, None)


def array_version(array: Any) -> int:
    """The tick of the last in-place change, through the library, of the memory `array` views
    (0: never)."""
    if not isinstance(array, np.ndarray):
        return 0
    base = root_base(array)
    entry = _stamps.get(id(base))
    return entry[1] if entry is not None and entry[0]() is base else 0


def lock(values: tuple[Any, ...], more: Iterable[Any] = ()) -> tuple[Any, ...]:
    """Make the arrays among `values` and `more`, and the arrays they view, read-only until
    `release`.

    Returns what to hand back to `release`. Values that are not arrays are ignored, tuples of
    them (an index) looked into. This runs for every recorded op that saved arrays, so its
    common case (only arrays that own their memory, or numbers) locks them in place and
    returns `values` itself."""
    counts = _counts
    _acquire()
    try:
        for value in values:
            if type(value) is np.ndarray and value.base is None:
                key = id(value)
                count = counts.get(key, 0)
                counts[key] = count + 1
                if not count and value.flags.writeable:
                    _restore.add(key)
                    value.setflags(write=False)
            elif isinstance(value, (np.ndarray, tuple)):
                break  # a view, or an index: the general path below
        else:
            if not more:
                return values
            held: list[Any] = list(values)
            for value in more:
                _lock_value(value, held)
            return tuple(held)
        done = next(i for i, v in enumerate(values) if v is value)
        held = list(values[:done])  # locked above; the rest, views and indices, go the long way
        for value in itertools.chain(values[done:], more):
            _lock_value(value, held)
        return tuple(held)
    finally:
        _release_guard()


def holds_arrays(settings: dict[str, Any]) -> bool:
    """Whether an op's keyword settings hold arrays (an index) that must be locked with its
    graph (a tuple may hold index arrays)."""
    for value in settings.values():
        if type(value) is tuple or isinstance(value, np.ndarray):
            return True
    return False


def _lock_value(value: Any, held: list[Any]) -> None:
    if isinstance(value, np.ndarray):
        _lock_chain(value, held)
    elif type(value) is tuple:  # an index: its arrays
        for part in value:
            if isinstance(part, np.ndarray):
                _lock_chain(part, held)


def _lock_chain(array: np.ndarray, held: list[Any]) -> None:
    """Lock `array` and each array it views."""
    while True:
        key = id(array)
        count = _counts.get(key, 0)
        _counts[key] = count + 1
        if not count and array.flags.writeable:
            _restore.add(key)
            array.setflags(write=False)
        held.append(array)
        base = array.base
        if not isinstance(base, np.ndarray):
            return
        array = base


def release(held: Sequence[Any]) -> None:
    """Undo `lock`s (what one returned, or several concatenated in order): arrays no other
    graph holds get their `writeable` flag back. Values that are not arrays are skipped."""
    counts, restore = _counts, _restore
    _acquire()
    try:
        for array in reversed(held):  # bases first: a view can be writeable only over one
            if type(array) is not np.ndarray and not isinstance(array, np.ndarray):
                continue
            key = id(array)
            count = counts[key]
            if count != 1:
                counts[key] = count - 1
                continue
            del counts[key]
            if key in restore:
                restore.discard(key)
                try:
                    array.setflags(write=True)
                except ValueError:  # a view over a base that something else keeps read-only
                    pass
    finally:
        _release_guard()


def _set_writeable(array: np.ndarray, value: bool) -> None:
    try:
        array.setflags(write=value)
    except ValueError:  # a view over a base that something else keeps read-only
        pass


def is_locked(array: np.ndarray) -> bool:
    """Whether a live graph holds `array` or the memory it views."""
    while True:
        if id(array) in _counts:
            return True
        base = array.base
        if not isinstance(base, np.ndarray):
            return False
        array = base


def write(array: np.ndarray, change: Callable[[], Any]) -> None:
    """Run `change()`, which writes into `array` in place, as the library's own writes do:
    the lock (if a graph holds the array) is lifted for the write, and the version is bumped
    before and after it, so that any backward that saved the array refuses afterwards."""
    chain = [array]
    while isinstance(chain[-1].base, np.ndarray):
        chain.append(chain[-1].base)
    with _guard:
        locked = [a for a in chain if id(a) in _counts]
        _stamp(chain[-1])
        try:
            for a in reversed(locked):  # bases first
                _set_writeable(a, True)
            change()
        finally:
            for a in locked:  # views first
                _set_writeable(a, False)
            _stamp(chain[-1])
