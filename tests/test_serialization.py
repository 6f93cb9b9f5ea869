"""tinygrad_edu.save / load: .npz without pickle, structure kept, loading never runs code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tinygrad_edu import Tensor
from tinygrad_edu.nn import Linear, Sequential
from tinygrad_edu.serialization import STRUCTURE_KEY, load, save


def test_a_model_state_round_trips_and_loads_into_a_fresh_model(tmp_path: Path) -> None:
    model = Sequential(Linear(3, 4, seed=0), Linear(4, 2, seed=1, dtype=np.float32))
    path = tmp_path / "model.npz"
    save(model.state_dict(), path)
    state = load(path)
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert state["1.weight"].dtype == np.float32
    fresh = Sequential(Linear(3, 4, seed=5), Linear(4, 2, seed=6, dtype=np.float32))
    fresh.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_array_equal(fresh[0](x).data, model[0](x).data)
    for a, b in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_file_is_plain_npz_under_exactly_the_given_name(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"  # no ".npz" appended, unlike np.savez(path)
    save({"w": np.arange(3.0), "t": Tensor([1.0, 2.0], requires_grad=True)}, path)
    assert path.is_file() and not (tmp_path / "weights.bin.npz").exists()
    with np.load(path, allow_pickle=False) as archive:  # numpy alone reads the arrays
        np.testing.assert_array_equal(archive["w"], np.arange(3.0))
        np.testing.assert_array_equal(archive["t"], [1.0, 2.0])
        assert archive[STRUCTURE_KEY].dtype.kind == "U"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]  # no temporary left


def test_structure_none_tuples_and_plain_values_survive() -> None:
    state = {
        "lr": 0.1, "steps": 3, "nesterov": False, "name": "adam", "missing": None,
        "betas": (0.9, np.float64(0.999)), "huge": 10**30, "nan": float("nan"),
        "slots": [np.zeros(2), None, np.ones((2, 2), dtype=np.float32)],
        "nested": {"a": {"b": np.array([1, 2], dtype=np.int8)}, "empty": []},
    }
    buffer = io.BytesIO()
    save(state, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    assert list(loaded) == list(state)
    assert (loaded["lr"], loaded["steps"], loaded["nesterov"], loaded["name"]) == (0.1, 3, False, "adam")
    assert loaded["missing"] is None and loaded["betas"] == (0.9, 0.999)
    assert isinstance(loaded["betas"], tuple) and type(loaded["betas"][1]) is float
    assert loaded["huge"] == 10**30 and np.isnan(loaded["nan"])
    assert loaded["slots"][1] is None and loaded["slots"][2].dtype == np.float32
    np.testing.assert_array_equal(loaded["nested"]["a"]["b"], [1, 2])
    assert loaded["nested"]["a"]["b"].dtype == np.int8 and loaded["nested"]["empty"] == []


def test_a_plain_npz_from_numpy_loads_as_a_dict_of_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", weight=np.ones((2, 2)), bias=np.zeros(2))
    state = load(tmp_path / "plain.npz")
    assert sorted(state) == ["bias", "weight"]


class RunsCode:
    """Unpickling this runs `exec`: what a malicious file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).touch()",))


def crafted_file(path: Path, marker: Path) -> None:
    payload = np.empty(1, dtype=object)
    payload[0] = RunsCode(marker)
    np.savez(path, weight=np.ones(2), evil=payload)


def test_loading_a_pickle_bearing_file_is_refused_and_runs_no_code(tmp_path: Path) -> None:
    path, marker = tmp_path / "evil.npz", tmp_path / "pwned"
    crafted_file(path, marker)
    with pytest.raises(ValueError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith("load: the entry 'evil' holds Python objects")
    assert "run arbitrary code" in message
    assert not marker.exists()
    # The file really is dangerous: numpy with allow_pickle=True runs its code.
    with np.load(path, allow_pickle=True) as archive:
        archive["evil"]
    assert marker.exists()


def test_a_pickle_file_or_garbage_is_refused(tmp_path: Path) -> None:
    import pickle

    marker = tmp_path / "pwned"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(RunsCode(marker)))
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    for name in ("model.pkl", "garbage.npz"):
        with pytest.raises(ValueError, match=r"^load: .* is not a readable \.npz file"):
            load(tmp_path / name)
    assert not marker.exists()


def test_a_damaged_structure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "damaged.npz"
    np.savez(path, **{STRUCTURE_KEY: np.array('{"format": 1, "state": ["dict", [["w", ["array", "nope"]]]]}'),
                      "w": np.ones(2)})
    with pytest.raises(ValueError, match="^load: the file's structure is damaged"):
        load(path)
    np.savez(path, **{STRUCTURE_KEY: np.array('{"format": 99}')})
    with pytest.raises(ValueError, match="^load: unknown format 99"):
        load(path)


@pytest.mark.parametrize(
    "state, error, phrase",
    [
        ({"w": np.array([object()], dtype=object)}, TypeError, "save: w is an array of dtype object"),
        ({"w": {1: np.ones(2)}}, TypeError, "save: the keys of w must be strings, got 1"),
        ({"w": {"x"}}, TypeError, "save: w is a set"),
        ({"a/b": np.ones(1), "a": {"b": np.ones(1)}}, ValueError,
         "save: two values would be stored under the name 'a/b'"),
        ([np.ones(1)], TypeError, "save: state must be a dict, got list"),
    ],
)
def test_save_refuses_what_it_cannot_store_without_pickle(
    tmp_path: Path, state: Any, error: type, phrase: str
) -> None:
    path = tmp_path / "out.npz"
    save({"old": np.ones(1)}, path)
    before = path.read_bytes()
    with pytest.raises(error) as raised:
        save(state, path)
    assert str(raised.value).startswith(phrase)
    assert path.read_bytes() == before  # a failed save leaves the existing file as it was
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]


def test_saved_files_hold_no_pickles(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    save({"a": [np.ones(2), None], "b": (1, "two"), "c": np.array(["text"])}, path)
    with np.load(path, allow_pickle=False) as archive:  # an object entry would raise here
        assert sorted(archive.files) == sorted([STRUCTURE_KEY, "a/0", "c"])
        for key in archive.files:
            assert not archive[key].dtype.hasobject
