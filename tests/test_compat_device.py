"""Device and runtime boilerplate: ``torch.device``, ``torch.cuda``, ``torch.backends``,
thread counts and determinism flags, and ``.to(device)`` on tensors and modules.

Values are PyTorch 2.13's on a machine without CUDA. Tests marked ``needs_*_wiring`` wait
for the names to be exported from ``distgrad/__init__.py`` / wired into ``Tensor`` and
``Module`` (see distgrad/_device.py); they are skipped until then.
"""

import pickle

import numpy as np
import pytest

import distgrad
import distgrad.backends
import distgrad.backends.cudnn as cudnn
import distgrad.cuda
import distgrad.nn as nn
from distgrad import _device
from distgrad._device import device


def _module_rejects_cuda() -> bool:
    try:
        nn.Linear(1, 1).to(device("cuda"))
    except RuntimeError:
        return True
    return False


def _factories_reject_cuda() -> bool:
    try:
        distgrad.zeros(1, device="cuda")
    except RuntimeError:
        return True
    return False


needs_init_wiring = pytest.mark.skipif(
    not hasattr(distgrad, "set_num_threads"),
    reason="waits for the _device/cuda/backends exports in distgrad/__init__.py")
needs_tensor_wiring = pytest.mark.skipif(
    not isinstance(distgrad.zeros(1).device, device),
    reason="waits for Tensor.device/to/cuda/is_cuda in distgrad/_tensor.py")
needs_module_wiring = pytest.mark.skipif(
    not _module_rejects_cuda(), reason="waits for Module.to/cuda in distgrad/nn/module.py")
needs_factory_wiring = pytest.mark.skipif(
    not _factories_reject_cuda(), reason="waits for device checks in distgrad/_factories.py")


# ------------------------------------------------------------------------------ device


def test_device_repr_str_eq_hash():
    cpu = device("cpu")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert cpu.type == "cpu" and cpu.index is None
    assert repr(device("cuda", 1)) == "device(type='cuda', index=1)"
    assert device("cuda:1") == device("cuda", 1) and str(device("cuda:1")) == "cuda:1"
    assert device(device("cpu")) == cpu and hash(device("cpu")) == hash(cpu)
    assert cpu != device("cpu:0") and cpu != device("cuda")
    assert (cpu == "cpu") is False  # as in PyTorch: a device never equals a string
    assert pickle.loads(pickle.dumps(device("cuda:2"))) == device("cuda", 2)
    assert {cpu: 1}[device("cpu")] == 1


def test_device_errors():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        device("gpu")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cpu:x'"):
        device("cpu:x")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        device("cuda:-1")
    with pytest.raises(RuntimeError, match="must not be negative"):
        device("cpu", -1)
    with pytest.raises(TypeError, match="device string"):
        device(1.5)
    with pytest.raises(RuntimeError, match="CPU only"):
        device(0)


def test_boilerplate_picks_the_cpu():
    dev = device("cuda" if distgrad.cuda.is_available() else "cpu")
    assert dev == device("cpu")
    with dev:
        pass


def test_check_device():
    assert _device.check_device(None) == device("cpu")
    assert _device.check_device("cpu:0") == device("cpu")
    for bad in ("cuda", device("cuda", 0), "mps"):
        with pytest.raises(RuntimeError, match="distgrad runs on the CPU only"):
            _device.check_device(bad)


def test_tensor_to_helper():
    x = distgrad.tensor([1.0, 2.0])
    to = _device.tensor_to
    assert to(x, "cpu") is x and to(x, device("cpu")) is x and to(x, distgrad.float32) is x
    assert to(x, device("cpu"), distgrad.float64).dtype == distgrad.float64
    assert to(x, "cpu", distgrad.int64).dtype == distgrad.int64
    assert to(x, dtype=distgrad.float64, device="cpu").dtype == distgrad.float64
    assert to(x, distgrad.zeros(1, dtype=distgrad.float64)).dtype == distgrad.float64
    copy = to(x, distgrad.float32, copy=True)
    assert copy is not x and np.array_equal(copy.numpy(), x.numpy())
    assert to(x, "cpu", non_blocking=True) is x
    with pytest.raises(RuntimeError, match="distgrad runs on the CPU only.*'cuda'"):
        to(x, "cuda")
    with pytest.raises(RuntimeError, match="'cuda:1'"):
        to(x, device="cuda:1")
    with pytest.raises(TypeError, match="unexpected keyword"):
        to(x, devise="cpu")


def test_tensor_to_keeps_the_graph():
    x = distgrad.tensor([1.0, 2.0], requires_grad=True)
    (_device.tensor_to(x, "cpu", distgrad.float64) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ------------------------------------------------------------------- cuda and backends


def test_cuda_namespace():
    cuda = distgrad.cuda
    assert cuda.is_available() is False and cuda.device_count() == 0
    assert cuda.is_initialized() is False
    assert cuda.manual_seed(0) is None and cuda.manual_seed_all(0) is None
    assert cuda.empty_cache() is None
    for call in (cuda.synchronize, cuda.current_device, cuda.get_device_name):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


def test_backends_flags():
    assert distgrad.backends.cudnn is cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    assert cudnn.is_available() is False
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        distgrad.backends.cudnn.benchmark = True
        distgrad.backends.cudnn.deterministic = True
        assert cudnn.benchmark is True and cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = saved
    assert distgrad.backends.mps.is_available() is False
    assert distgrad.backends.mps.is_built() is False
    assert distgrad.backends.cuda.is_built() is False
    assert distgrad.backends.cuda.matmul.allow_tf32 is False


# ------------------------------------------------------------------ threads, determinism


def test_num_threads_round_trip():
    before = _device.get_num_threads()
    assert isinstance(before, int) and before >= 1
    try:
        _device.set_num_threads(1)
        assert _device.get_num_threads() == 1
        for _, getter in _device._find_blas():
            assert getter() == 1  # passed on to NumPy's OpenBLAS when there is one
    finally:
        _device.set_num_threads(before)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(RuntimeError, match="positive integer"):
            _device.set_num_threads(bad)
    _device.set_num_interop_threads(2)
    assert _device.get_num_interop_threads() == 2


def test_deterministic_flags():
    try:
        assert _device.use_deterministic_algorithms(True, warn_only=True) is None
        assert _device.are_deterministic_algorithms_enabled() is True
        assert _device.is_deterministic_algorithms_warn_only_enabled() is True
    finally:
        _device.use_deterministic_algorithms(False)
    assert _device.are_deterministic_algorithms_enabled() is False
    assert _device.get_default_device() == device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        _device.set_default_device("cuda")


# --------------------------------------------------------- top-level names (need wiring)


@needs_init_wiring
def test_top_level_names():
    torch = distgrad
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert dev == torch.device("cpu") and torch.device is device
    assert torch.cuda.device_count() == 0
    torch.backends.cudnn.benchmark = False
    assert torch.backends.mps.is_available() is False
    torch.set_num_threads(torch.get_num_threads())
    assert torch.get_num_interop_threads() >= 1
    assert torch.use_deterministic_algorithms(False) is None
    assert torch.are_deterministic_algorithms_enabled() is False
    assert torch.get_default_device() == dev
    assert torch.is_tensor(torch.zeros(1)) and not torch.is_tensor([1.0])
    assert torch.numel(torch.zeros(2, 3)) == 6


@needs_tensor_wiring
def test_tensor_device_methods():
    torch = distgrad
    x = torch.tensor([1.0, 2.0])
    assert x.device == device("cpu") and repr(x.device) == "device(type='cpu')"
    assert x.is_cuda is False and x.is_cpu is True and x.get_device() == -1
    assert x.cpu() is x and x.to("cpu") is x and x.to(x.device) is x
    assert x.to(device("cpu"), torch.float64).dtype == torch.float64
    assert x.to(torch.float64).dtype == torch.float64
    assert x.to(dtype=torch.int64).dtype == torch.int64
    with pytest.raises(RuntimeError, match="distgrad runs on the CPU only"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()


@needs_module_wiring
def test_module_to_device():
    model = nn.Linear(2, 3)
    weight = model.weight
    assert model.to(device("cpu")) is model and model.to("cpu:0") is model
    assert model.to(device("cpu"), distgrad.float64) is model
    assert model.weight is weight and model.weight.dtype == distgrad.float64
    with pytest.raises(RuntimeError, match="distgrad runs on the CPU only"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        model.cuda()


@needs_factory_wiring
def test_factories_take_devices():
    cpu = device("cpu")
    assert distgrad.zeros(3, device=cpu).shape == (3,)
    assert distgrad.ones(2, device="cpu").shape == (2,)
    assert distgrad.tensor([1.0], device=cpu).shape == (1,)
    with pytest.raises(RuntimeError, match="distgrad runs on the CPU only"):
        distgrad.randn(2, device="cuda")
