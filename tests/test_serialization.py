"""distgrad.serialization: exact round trips, atomic writes, and refusing foreign files."""

import collections
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import distgrad
from distgrad.serialization import CheckpointError, load, save


def assert_same(a, b):
    """Equal values with identical types, all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, distgrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and not b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert type(key) is type(next(k for k in b if k == key))
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def nested():
    return {
        "state": {0: {"momentum_buffer": distgrad.randn(3, 2), "step": distgrad.tensor(4.0)},
                  1: {"exp_avg": distgrad.zeros(5, dtype=distgrad.float64)}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1],
                          "name": None}],
        "layers": [distgrad.arange(6), (distgrad.tensor([True, False]),), []],
        "ordered": collections.OrderedDict([("b", 1), ("a", np.float32(2.5))]),
        "numbers": [0, -7, 2**70, 1.5, -0.0, float("inf"), float("nan"), True, "text", "ünï"],
        "arrays": [np.arange(12, dtype=np.int16).reshape(3, 4).T, np.zeros((0, 3)),
                   np.array(3.0), np.array([1, 2], dtype=np.uint8)],
        "dtypes": {str(d): distgrad.ones(2, dtype=d) for d in
                   (distgrad.float32, distgrad.float64, distgrad.int64, distgrad.int32,
                    distgrad.bool, distgrad.uint8)},
        -1: "negative int key",
    }


def test_round_trip_preserves_structure_types_and_dtypes(tmp_path):
    obj = nested()
    save(obj, tmp_path / "ckpt")
    assert_same(obj, load(tmp_path / "ckpt"))


def test_round_trip_through_str_path_and_file_objects(tmp_path):
    obj = nested()
    save(obj, str(tmp_path / "ckpt"))
    assert_same(obj, load(str(tmp_path / "ckpt")))
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    assert_same(obj, load(buffer))


def test_loaded_tensors_keep_requires_grad_and_parameter_type(tmp_path):
    # As torch.load: a Parameter loads as a Parameter, requires_grad is kept, and a non-leaf
    # loads as a leaf.
    from distgrad.nn.parameter import Parameter

    weight = Parameter(np.ones((2, 2), dtype=np.float32))
    frozen = Parameter(np.ones(2, dtype=np.float32), requires_grad=False)
    save({"w": weight, "f": frozen, "g": distgrad.ones(3, requires_grad=True) * 2,
          "p": distgrad.ones(2)}, tmp_path / "c")
    loaded = load(tmp_path / "c")
    assert type(loaded["w"]) is Parameter and loaded["w"].requires_grad
    assert type(loaded["f"]) is Parameter and not loaded["f"].requires_grad
    assert loaded["g"].requires_grad and loaded["g"].is_leaf and loaded["g"].grad_fn is None
    assert loaded["g"].tolist() == [2.0, 2.0, 2.0]
    assert type(loaded["p"]) is distgrad.Tensor and not loaded["p"].requires_grad
    loaded["p"].numpy()[0] = 5.0
    with zipfile.ZipFile(tmp_path / "c") as zf:
        assert json.loads(zf.read("manifest.json"))["version"] == 2


def test_checkpoints_without_grad_flags_stay_version_1(tmp_path):
    save({"sd": distgrad.nn.Linear(2, 2).state_dict()}, tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "c") as zf:
        assert json.loads(zf.read("manifest.json"))["version"] == 1


def test_shared_tensors_load_as_one_object(tmp_path):
    t = distgrad.randn(3)
    save({"a": t, "b": [t]}, tmp_path / "c")
    loaded = load(tmp_path / "c")
    assert loaded["a"] is loaded["b"][0]


def test_file_is_a_zip_of_npy_entries_and_a_versioned_json_manifest(tmp_path):
    save({"w": distgrad.ones(2)}, tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "c") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "distgrad-checkpoint" and manifest["version"] == 1
        assert [n for n in zf.namelist() if n.endswith(".npy")] == ["arrays/0.npy"]
        assert not any(n.endswith(".pkl") for n in zf.namelist())


@pytest.mark.parametrize("obj,where,what", [
    ({"state": {"layers": [1, 2, object()]}}, r"obj\['state'\]\['layers'\]\[2\]", "object"),
    ([{1: {3, 4}}], r"obj\[0\]\[1\]", "set"),
    ({(1, 2): 3}, r"obj", "tuple"),
    ({1.5: 3}, r"obj", "float"),
    ({"a": np.array([None, 1])}, r"obj\['a'\]", "dtype object"),
    ({"f": lambda: 0}, r"obj\['f'\]", "function"),
])
def test_unsupported_objects_raise_type_error_naming_the_path(obj, where, what, tmp_path):
    with pytest.raises(TypeError, match=where) as info:
        save(obj, tmp_path / "c")
    assert what in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_cycles_are_refused(tmp_path):
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        save(cyclic, tmp_path / "c")


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "ckpt"
    save({"epoch": 1, "w": distgrad.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"obj\['model'\]\['layers'\]\[2\]"):
        save({"epoch": 2, "model": {"layers": [distgrad.zeros(3), 1, object()]}}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert load(path)["epoch"] == 1


def test_crash_while_writing_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save({"epoch": 1}, path)
    before = path.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            fp.write(b"partial")
            raise OSError("disk full")
        real_write_array(fp, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "a": distgrad.ones(4), "b": distgrad.ones(5)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        save({"a": 1}, tmp_path / "c")
    finally:
        os.umask(umask)
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1, 30, 4])
def test_truncated_file_raises_checkpoint_error(tmp_path, keep):
    path = tmp_path / "ckpt"
    save(nested(), path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(CheckpointError, match=str(path)):
        load(path)


def test_corrupted_array_bytes_raise_checkpoint_error(tmp_path):
    path = tmp_path / "ckpt"
    save({"w": distgrad.tensor(np.arange(1000, dtype=np.float64))}, path)
    data = bytearray(path.read_bytes())
    at = data.index(np.arange(1000, dtype=np.float64)[500:501].tobytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load(path)


@pytest.mark.parametrize("content", [b"", os.urandom(2000), b"PK" + os.urandom(2000)],
                         ids=["empty", "random", "random-with-zip-magic"])
def test_random_bytes_raise_checkpoint_error(tmp_path, content):
    path = tmp_path / "junk"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="junk"):
        load(path)


class _CreatesFileWhenUnpickled:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_are_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": _CreatesFileWhenUnpickled(marker)}))
    with pytest.raises(CheckpointError, match="pickle"):
        load(path)
    assert not marker.exists()


def test_torch_style_zip_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="torch.save"):
        load(path)


def _forge(path, manifest, arrays=()):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, payload in arrays:
            zf.writestr(name, payload)


def test_pickled_array_entry_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    payload = io.BytesIO()
    np.save(payload, np.array([_CreatesFileWhenUnpickled(marker)], dtype=object),
            allow_pickle=True)
    path = tmp_path / "forged"
    _forge(path, {"format": "distgrad-checkpoint", "version": 1,
                  "root": {"ndarray": 0, "dtype": "|O"}},
           [("arrays/0.npy", payload.getvalue())])
    with pytest.raises(CheckpointError, match="forged"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("manifest,match", [
    ({"format": "distgrad-checkpoint", "version": 99, "root": 1}, "version 99 is newer"),
    ({"format": "something-else", "version": 1, "root": 1}, "not a distgrad checkpoint"),
    ({"format": "distgrad-checkpoint", "version": 1, "root": {"tensor": 3, "dtype": "<f4"}},
     "arrays/3.npy is missing"),
    ({"format": "distgrad-checkpoint", "version": 1, "root": {"weird": []}}, "unexpected"),
])
def test_bad_manifests_raise_checkpoint_error(tmp_path, manifest, match):
    _forge(tmp_path / "c", manifest)
    with pytest.raises(CheckpointError, match=match):
        load(tmp_path / "c")


def test_checkpoint_error_is_a_runtime_error_and_missing_files_are_not_wrapped(tmp_path):
    assert issubclass(CheckpointError, RuntimeError)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "does-not-exist")
