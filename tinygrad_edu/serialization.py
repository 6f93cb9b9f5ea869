"""`save` and `load`: state dicts (a model's or an optimizer's) in numpy's `.npz` format, never
pickle, so loading a file cannot run code.

    tinygrad_edu.save(model.state_dict(), "model.npz")
    model.load_state_dict(tinygrad_edu.load("model.npz"))

    tinygrad_edu.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.npz")

What a file holds: one array per array in the state, and one entry "__tinygrad_edu__", a JSON
text (stored as a unicode array, not an object) describing the structure around them: which
values are dicts, lists or tuples, and the plain values (None, bools, ints, floats, strings)
that are not arrays. So an optimizer's state comes back as it went in: a velocity that does not
exist yet is None in `state_dict()["velocities"]`, is written as a JSON null, and `load` gives
None back; `betas` stays a tuple; `lr` a float. Numpy scalars become Python numbers.

Arrays are stored under their path in the state: a model's "0.weight" is the npz entry
"0.weight" (so `np.load` reads a model file directly), a nested value joins its keys with
"/" ("optimizer/velocities/0"). `load` also reads a plain `.npz` written by `np.savez` (a dict
of arrays).

Loading uses `np.load(..., allow_pickle=False)`: an entry holding Python objects (which numpy
can only read by unpickling, and unpickling can run code) is refused with a ValueError, and
nothing in the file is executed.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load"]

STRUCTURE_KEY = "__tinygrad_edu__"
FORMAT = 1
_PLAIN = (type(None), bool, int, float, str)

Path = str | os.PathLike[str]


def save(state: Mapping[str, Any], path: Path | IO[bytes]) -> None:
    """Write `state` to `path` (exactly that name: no ".npz" is appended) or a binary file.

    state  a dict with string keys whose values are arrays, Tensors (their data is saved),
           numbers, bools, strings, None, or lists, tuples and dicts of these (string keys)

    Everything is checked before the file is touched, and a path is written through a
    temporary file renamed into place, so a failed save leaves an existing file as it was.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state must be a dict, got {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, "", arrays)
    arrays[STRUCTURE_KEY] = np.array(json.dumps({"format": FORMAT, "state": tree}))
    if hasattr(path, "write"):
        np.savez(path, allow_pickle=False, **arrays)
        return
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, allow_pickle=False, **arrays)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def load(path: Path | IO[bytes]) -> dict[str, Any]:
    """Read a file written by `save` (or any `.npz` of plain arrays) back into a dict.

    Arrays come back as numpy arrays (give them to `load_state_dict`); the structure and the
    plain values as saved. Never unpickles: an entry of Python objects raises ValueError.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {os.fspath(path) if not hasattr(path, 'read') else 'the file'} "
                         f"is not a readable .npz file: {error}") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError("load: the file holds a single .npy array, not a saved state (.npz)")
    with archive:
        arrays = {key: _read(archive, key) for key in archive.files}
    if STRUCTURE_KEY not in arrays:
        return arrays
    structure = arrays.pop(STRUCTURE_KEY)
    if structure.dtype.kind != "U" or structure.ndim != 0:
        raise ValueError(f"load: the entry {STRUCTURE_KEY!r} is not a JSON text; the file is damaged")
    try:
        document = json.loads(str(structure))
    except json.JSONDecodeError as error:
        raise ValueError(f"load: the structure of the file is not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(
            f"load: unknown format {document.get('format') if isinstance(document, dict) else None!r}"
            f" (this version reads format {FORMAT})"
        )
    used: set[str] = set()
    state = _decode(document.get("state"), arrays, used)
    unused = sorted(set(arrays) - used)
    if unused or not isinstance(state, dict):
        raise ValueError(f"load: the file's structure does not match its arrays (unused: {unused})")
    return state


def _read(archive: Any, key: str) -> np.ndarray:
    try:
        array: np.ndarray = archive[key]
    except ValueError as error:
        if "allow_pickle" not in str(error):  # numpy's refusal of object arrays names it
            raise ValueError(f"load: the entry {key!r} is damaged: {error}") from error
        raise ValueError(
            f"load: the entry {key!r} holds Python objects, which numpy can only read by "
            "unpickling, and unpickling a file can run arbitrary code; refusing to load it. "
            "Files written by tinygrad_edu.save never hold objects."
        ) from error
    return array


# A tree node is a two-item list [kind, payload]: ["array", npz key], ["value", plain JSON
# value], ["list", [nodes]], ["tuple", [nodes]], ["dict", [[key, node], ...]] (a list of pairs
# keeps the order and allows any string key).


def _encode(value: Any, path: str, arrays: dict[str, np.ndarray]) -> list[Any]:
    where = path or "the state"
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _PLAIN):
        return ["value", value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufcUS":
            raise TypeError(
                f"save: {where} is an array of dtype {value.dtype}; only arrays of numbers, "
                "bools or strings can be saved without pickle"
            )
        key = path or "state"
        if key in arrays or key == STRUCTURE_KEY:
            raise ValueError(f"save: two values would be stored under the name {key!r}")
        arrays[key] = value
        return ["array", key]
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"save: the keys of {where} must be strings, got {key!r}")
            items.append([key, _encode(item, f"{path}/{key}" if path else key, arrays)])
        return ["dict", items]
    if isinstance(value, (list, tuple)):
        nodes = [_encode(item, f"{path}/{i}" if path else str(i), arrays) for i, item in enumerate(value)]
        return ["tuple" if isinstance(value, tuple) else "list", nodes]
    raise TypeError(
        f"save: {where} is a {type(value).__name__}; a state holds arrays, Tensors, numbers, "
        "bools, strings, None, and lists, tuples and dicts of them"
    )


def _decode(node: Any, arrays: dict[str, np.ndarray], used: set[str]) -> Any:
    if not (isinstance(node, list) and len(node) == 2 and isinstance(node[0], str)):
        raise ValueError(f"load: the file's structure is damaged (unexpected {str(node)[:60]})")
    kind, payload = node
    if kind == "value" and isinstance(payload, _PLAIN):
        return payload
    if kind == "array" and isinstance(payload, str) and payload in arrays:
        used.add(payload)
        return arrays[payload]
    if kind in ("list", "tuple") and isinstance(payload, list):
        items = [_decode(item, arrays, used) for item in payload]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and isinstance(payload, list):
        result = {}
        for pair in payload:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError("load: the file's structure is damaged (a bad dict entry)")
            result[pair[0]] = _decode(pair[1], arrays, used)
        return result
    raise ValueError(f"load: the file's structure is damaged (unexpected {str(node)[:60]})")
