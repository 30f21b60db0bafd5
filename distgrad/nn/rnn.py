"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` and their one-step cells ``RNNCell``,
``LSTMCell`` and ``GRUCell``, with PyTorch's constructors, parameter names and order,
initialisation, gate orders, shapes and reprs.

The forward is made of ordinary differentiable ops, so backward and double backward come
from the tape. Per layer and direction, the input-to-hidden projection of the whole sequence
is one matmul before the time loop; each step then costs one ``h @ W_hh.T`` and the gate
arithmetic.

A :class:`~distgrad.nn.utils.rnn.PackedSequence` input runs step ``t`` on its first
``batch_sizes[t]`` rows only (the sequences still running, longest first): the state shrinks
as sequences end, their final state set aside, and grows back in the reverse direction.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import ops
from .._dtype import get_default_dtype, to_numpy_dtype
from .._tensor import Tensor
from ..autograd.forward_ad import state as _forward_ad
from ..ops.nn_fused import apply_linear
from ..ops.nn_fused import dropout as _dropout
from ..ops.rnn_cells import gru_cell, lstm_cell
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _slices(size, count):
    """Index tuples picking ``count`` consecutive blocks of ``size`` from the last dim."""
    return tuple((..., slice(k * size, (k + 1) * size)) for k in range(count))


# --------------------------------------------------------------------------- time loops
# Each takes the per-step input projections ``steps`` (``x_t @ W_ih.T + b_ih``), the order
# of the steps and the initial state; it returns the output of every step, in time order,
# and the final state.


def _rnn_loop(steps, order, h, w_hh, b_hh, relu):
    act = ops.relu if relu else ops.tanh
    out = [None] * len(steps)
    for t in order:
        h = act(steps[t] + apply_linear(h, w_hh, b_hh))
        out[t] = h
    return out, h


def _lstm_cell(x_proj, h, c, w_hh, b_hh, w_hr, gates):
    # Plain slices of the gates: cheaper here than one split node (measured), forward and back.
    z = x_proj + apply_linear(h, w_hh, b_hh)
    i, f, g, o = gates
    c = z[f].sigmoid() * c + z[i].sigmoid() * z[g].tanh()
    h = z[o].sigmoid() * c.tanh()
    if w_hr is not None:
        h = apply_linear(h, w_hr, None)
    return h, c


def _lstm_loop(steps, order, h, c, w_hh, b_hh, w_hr):
    if w_hr is None and not _forward_ad.depth:
        return _fused_lstm_loop(steps, order, h, c, w_hh, b_hh)
    gates = _slices(c.shape[-1], 4)
    out = [None] * len(steps)
    for t in order:
        h, c = _lstm_cell(steps[t], h, c, w_hh, b_hh, w_hr, gates)
        out[t] = h
    return out, h, c


def _fused_lstm_loop(steps, order, h, c, w_hh, b_hh):
    """:func:`_lstm_loop` with each step one ``lstm_cell`` node (no projection, no forward
    mode: the op has no forward-mode rule), the state carried as ``[h, c]``."""
    size = c.shape[-1]
    hc = ops.cat([h, c], -1)
    out = [None] * len(steps)
    for t in order:
        hc = lstm_cell(steps[t], hc, w_hh, b_hh)
        out[t] = hc[..., :size]
    return out, hc[..., :size], hc[..., size:]


def _gru_cell(x_rz, x_n, h, w_hh, b_hh, gates):
    # PyTorch's form: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h.
    r, z, n, rz = gates
    h_proj = apply_linear(h, w_hh, b_hh)
    r_z = (x_rz + h_proj[rz]).sigmoid()
    new = (x_n + r_z[r] * h_proj[n]).tanh()
    return new + r_z[z] * (h - new)


def _gru_gates(size):
    """The slices ``r, z, n`` of a GRU projection, and ``r`` and ``z`` together."""
    return _slices(size, 3) + ((..., slice(0, 2 * size)),)


def _gru_loop(steps_rz, steps_n, order, h, w_hh, b_hh):
    gates = _gru_gates(h.shape[-1])
    out = [None] * len(steps_rz)
    for t in order:
        h = _gru_cell(steps_rz[t], steps_n[t], h, w_hh, b_hh, gates)
        out[t] = h
    return out, h


def _packed_loop(steps, sizes, reverse, state, cell):
    """The time loop over a packed batch: step ``t`` runs ``cell(steps[t], state)`` on the
    first ``sizes[t]`` rows of the state (a tuple of tensors, the first one the output).

    Forward in time the state loses the rows of the sequences that have ended, kept aside as
    their final state; in reverse it starts with the rows of the sequences that run to the
    last step and gains rows from the initial state as longer ones begin. Returns every
    step's output, in time order, and the final state of every row."""
    out = [None] * len(sizes)
    if reverse:
        initial, state = state, tuple(s[:sizes[-1]] for s in state)
        for t in range(len(sizes) - 1, -1, -1):
            have = state[0].shape[0]
            if sizes[t] > have:
                state = tuple(ops.cat([s, s0[have:sizes[t]]], 0)
                              for s, s0 in zip(state, initial))
            state = cell(steps[t], state)
            out[t] = state[0]
        return out, state
    ended = []
    for t, size in enumerate(sizes):
        if size < state[0].shape[0]:
            ended.append(tuple(s[size:] for s in state))
            state = tuple(s[:size] for s in state)
        state = cell(steps[t], state)
        out[t] = state[0]
    if ended:
        # Later ends are lower rows: the final state reads in row order backwards.
        state = tuple(ops.cat(parts, 0) for parts in zip(state, *ended[::-1]))
    return out, state


def _fused_gru_loop(steps, order, h, w_hh, b_hh):
    """:func:`_gru_loop` with each step one ``gru_cell`` node (not under forward mode: the
    op has no forward-mode rule)."""
    out = [None] * len(steps)
    for t in order:
        h = gru_cell(steps[t], h, w_hh, b_hh)
        out[t] = h
    return out, h


# ------------------------------------------------------------------------------ helpers


def _new_parameter(shape, dtype) -> Parameter:
    np_dtype = to_numpy_dtype(dtype) if dtype is not None else get_default_dtype().numpy
    return Parameter(Tensor._wrap(np.empty(shape, dtype=np_dtype)))


def _check_input(name, input, dims):
    if not isinstance(input, Tensor):
        if type(input).__name__ == "PackedSequence":
            raise NotImplementedError(
                f"{name}: PackedSequence input is not supported from another library "
                f"({type(input).__module__}); pack the batch with distgrad's "
                f"nn.utils.rnn.pack_padded_sequence or pack_sequence")
        raise TypeError(f"{name}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in dims:
        raise ValueError(f"{name}: Expected input to be {dims[0]}D or {dims[1]}D, got "
                         f"{input.ndim}D instead")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got dtype {input.dtype}")


def _check_dtype(name, input, weight):
    if input._data.dtype != weight._data.dtype:
        raise ValueError(f"{name} input dtype ({input.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                         f"convert model: model.to({input.dtype})")


def _zeros(shape, like) -> Tensor:
    return Tensor._wrap(np.zeros(shape, dtype=like._data.dtype))


# ---------------------------------------------------------------------- sequence layers


class RNNBase(Module):
    """Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Per layer ``k`` and direction (suffix ``_reverse`` for the backward one) it registers
    ``weight_ih_l{k}`` ``(gates * hidden_size, layer input size)``, ``weight_hh_l{k}``
    ``(gates * hidden_size, hidden_size)``, then (with ``bias``) ``bias_ih_l{k}`` and
    ``bias_hh_l{k}``, and for an LSTM with ``proj_size`` ``weight_hr_l{k}``
    ``(proj_size, hidden_size)``. All are initialised from U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)), as in PyTorch.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for arg, value in (("hidden_size", hidden_size), ("num_layers", num_layers),
                           ("proj_size", proj_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{arg} should be of type int, got: {type(value).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for name, shape in shapes:
                    self.register_parameter(name + suffix, _new_parameter(shape, dtype))
                    names.append(name + suffix)
                self._all_weights.append(names)
        self._flat_weights_names = [n for names in self._all_weights for n in names]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op: PyTorch packs the weights for cuDNN here; NumPy needs nothing."""

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction, in registration order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _weights(self, k):
        """``(w_ih, w_hh, b_ih, b_hh, w_hr)`` of layer-direction ``k`` (None where absent)."""
        params = self._parameters
        suffix = f"_l{k // self._directions}" + ("_reverse" if k % self._directions else "")
        return tuple(params.get(name + suffix) for name in
                     ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _prepare(self, input, states):
        """Validate ``input`` and the initial ``states`` (None for zeros); return them
        batched (unbatched input gets a batch dim of 1), each state ``(L * D, N, size)``."""
        name = type(self).__name__
        _check_input(name, input, (2, 3))
        batched = input.ndim == 3
        self._check_state_dims(states, batched)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        _check_dtype(name, input, self._parameters[self._flat_weights_names[0]])
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        time_dim = 1 if self.batch_first else 0
        if input.shape[time_dim] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        batch = input.shape[1 - time_dim]
        return input, self._initial_states(states, batch, input, batched), batched

    def _prepare_packed(self, input, states):
        """:meth:`_prepare` for a PackedSequence: validate its data and the initial
        ``states`` (given in the batch's original order); return the data, the batch sizes
        (a list) and the states in the packed (sorted) order."""
        name = type(self).__name__
        data = input.data
        if not isinstance(data, Tensor):
            raise TypeError(f"{name}: expected the PackedSequence's data to be a Tensor, got "
                            f"{type(data).__name__}")
        if data.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
        if data._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: expected a floating point input, got dtype "
                               f"{data.dtype}")
        given = [state is not None for state in states]
        if any(not isinstance(s, Tensor) for s in states if s is not None):
            raise TypeError(f"{name}: expected the initial state as Tensors, got "
                            f"{', '.join(type(s).__name__ for s in states if s is not None)}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        _check_dtype(name, data, self._parameters[self._flat_weights_names[0]])
        batch_sizes = input.batch_sizes
        batch_sizes = (batch_sizes._data if isinstance(batch_sizes, Tensor) else
                       np.asarray(batch_sizes)).tolist()
        prepared = self._initial_states(states, batch_sizes[0], data, True)
        if input.sorted_indices is not None:
            prepared = [ops.index_select(state, 1, input.sorted_indices) if was_given else state
                        for state, was_given in zip(prepared, given)]
        return data, batch_sizes, prepared

    def _initial_states(self, states, batch, input, batched):
        """The initial ``states`` checked against the batch size (zeros for None), each
        ``(L * D, N, size)``."""
        name = type(self).__name__
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        prepared = []
        for i, (state, size) in enumerate(zip(states, sizes)):
            shape = (self.num_layers * self._directions, batch, size)
            if state is None:
                prepared.append(_zeros(shape, input))
                continue
            expected = shape if batched else (shape[0], size)
            if tuple(state.shape) != expected:
                what = "hidden" if len(states) == 1 else f"hidden[{i}]"
                raise RuntimeError(f"Expected {what} size {expected}, got "
                                   f"{list(state.shape)}")
            if state._data.dtype != input._data.dtype:
                raise RuntimeError(f"{name}: the initial state has dtype {state.dtype} but the "
                                   f"input has dtype {input.dtype}; they must match")
            prepared.append(state if batched else state.unsqueeze(1))
        return prepared

    def _check_state_dims(self, states, batched):
        """PyTorch's error when the states' number of dims does not match the input's."""
        given = [s for s in states if s is not None]
        if any(not isinstance(s, Tensor) for s in given):
            raise TypeError(f"{type(self).__name__}: expected the initial state as Tensors, got "
                            f"{', '.join(type(s).__name__ for s in given)}")
        want = 3 if batched else 2
        if all(s.ndim == want for s in given):
            return
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if len(states) == 1:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                               f"{given[0].ndim}-D tensor")
        dims = ", ".join(f"{s.ndim}-D" for s in given)
        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                           f"({dims}) tensors")

    def _run(self, input, states):
        """Run every layer and direction over the time-major or batch-major ``input``
        (batched); ``states`` holds per state a tensor ``(L * D, N, size)``. Returns the
        last layer's output and the final states, each ``(L * D, N, size)``."""
        time_dim = 1 if self.batch_first else 0
        directions = self._directions
        initial = [ops.unbind(s, 0) for s in states]
        finals = [[] for _ in states]
        x = input
        steps_total = input.shape[time_dim]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k)
                order = range(steps_total - 1, -1, -1) if direction else range(steps_total)
                proj = apply_linear(x, w_ih, b_ih)
                if self.mode == "LSTM":
                    out, h, c = _lstm_loop(ops.unbind(proj, time_dim), order, initial[0][k],
                                           initial[1][k], w_hh, b_hh, w_hr)
                    finals[1].append(c)
                elif self.mode == "GRU" and not _forward_ad.depth:
                    out, h = _fused_gru_loop(ops.unbind(proj, time_dim), order, initial[0][k],
                                             w_hh, b_hh)
                elif self.mode == "GRU":
                    _, _, n, rz = _gru_gates(self.hidden_size)
                    out, h = _gru_loop(ops.unbind(proj[rz], time_dim),
                                       ops.unbind(proj[n], time_dim), order, initial[0][k],
                                       w_hh, b_hh)
                else:
                    out, h = _rnn_loop(ops.unbind(proj, time_dim), order, initial[0][k], w_hh,
                                       b_hh, self.mode == "RNN_RELU")
                finals[0].append(h)
                outputs.append(ops.stack(out, time_dim))
            x = outputs[0] if directions == 1 else ops.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, [ops.stack(f, 0) for f in finals]

    def _run_packed(self, data, batch_sizes, states):
        """:meth:`_run` over the ``data`` of a packed batch: each step on the rows of the
        sequences still running. Returns the last layer's packed output data and the final
        states ``(L * D, N, size)`` in the packed (sorted) order."""
        directions = self._directions
        initial = [ops.unbind(s, 0) for s in states]
        finals = [[] for _ in states]
        fused = not _forward_ad.depth
        size = self.hidden_size
        x = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k)
                steps = ops.split(apply_linear(x, w_ih, b_ih), batch_sizes)
                start = tuple(s[k] for s in initial)
                # Fused LSTM steps carry the state as [h, c] (see _fused_lstm_loop).
                hc = self.mode == "LSTM" and w_hr is None and fused
                out, final = _packed_loop(steps, batch_sizes, direction == 1,
                                          (ops.cat(start, -1),) if hc else start,
                                          self._packed_cell(w_hh, b_hh, w_hr, fused))
                if hc:
                    out, final = ([o[:, :size] for o in out],
                                  (final[0][:, :size], final[0][:, size:]))
                out = ops.cat(out, 0)
                for f, state in zip(finals, final):
                    f.append(state)
                outputs.append(out)
            x = outputs[0] if directions == 1 else ops.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, [ops.stack(f, 0) for f in finals]

    def _packed_cell(self, w_hh, b_hh, w_hr, fused):
        """One step ``cell(x_proj, state) -> state`` for :func:`_packed_loop`; the state is
        a tuple: ``(h,)``, ``(h, c)`` for an LSTM, or ``([h, c],)`` for a fused LSTM step."""
        if self.mode == "LSTM" and w_hr is None and fused:
            return lambda x_t, s: (lstm_cell(x_t, s[0], w_hh, b_hh),)
        if self.mode == "LSTM":
            gates = _slices(self.hidden_size, 4)
            return lambda x_t, s: _lstm_cell(x_t, s[0], s[1], w_hh, b_hh, w_hr, gates)
        if self.mode == "GRU" and fused:
            return lambda x_t, s: (gru_cell(x_t, s[0], w_hh, b_hh),)
        if self.mode == "GRU":
            _, _, n, rz = gates = _gru_gates(self.hidden_size)
            return lambda x_t, s: (_gru_cell(x_t[rz], x_t[n], s[0], w_hh, b_hh, gates),)
        act = ops.relu if self.mode == "RNN_RELU" else ops.tanh
        return lambda x_t, s: (act(x_t + apply_linear(s[0], w_hh, b_hh)),)

    def _forward(self, input, states):
        if isinstance(input, PackedSequence):
            data, batch_sizes, states = self._prepare_packed(input, states)
            output, finals = self._run_packed(data, batch_sizes, states)
            if input.unsorted_indices is not None:
                finals = [ops.index_select(f, 1, input.unsorted_indices) for f in finals]
            return PackedSequence(output, input.batch_sizes, input.sorted_indices,
                                  input.unsorted_indices), finals
        input, states, batched = self._prepare(input, states)
        output, finals = self._run(input, states)
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            finals = [f.squeeze(1) for f in finals]
        return output, finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


_SEQ_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
             "bidirectional")


def _bind(name, args, kwargs, names):
    """Merge ``args`` into ``kwargs`` by the positional ``names`` (PyTorch's *args form)."""
    if len(args) > len(names):
        raise TypeError(f"{name}.__init__() takes at most {len(names)} positional arguments "
                        f"but {len(args)} were given")
    for arg_name, value in zip(names, args):
        if arg_name in kwargs:
            raise TypeError(f"{name}.__init__() got multiple values for argument '{arg_name}'")
        kwargs[arg_name] = value
    return kwargs


class RNN(RNNBase):
    r"""Elman RNN: per layer, ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
        input_size: features of the input ``x``.
        hidden_size: features of the hidden state ``h``.
        num_layers: stacked layers, each taking the previous one's output (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: whether to learn ``b_ih`` and ``b_hh`` (default True).
        batch_first: input and output are ``(N, L, H)`` instead of ``(L, N, H)``; the
            hidden state stays ``(num_layers * D, N, H)``.
        dropout: dropout on each layer's output but the last, in training mode only.
        bidirectional: also run each layer over the reversed sequence (``D = 2``) and
            concatenate both directions' outputs.

    ``forward(input, hx=None)`` takes ``input`` ``(L, N, input_size)`` (``(N, L, ...)``
    with ``batch_first``, or ``(L, input_size)`` unbatched) and ``hx``
    ``(D * num_layers, N, hidden_size)`` (zeros when None), and returns ``(output, h_n)``:
    ``output`` ``(L, N, D * hidden_size)`` the last layer's ``h_t`` for every ``t``, and
    ``h_n`` the final hidden state of every layer and direction.

    ``input`` may also be a :class:`~distgrad.nn.utils.rnn.PackedSequence` (from
    ``pack_padded_sequence`` or ``pack_sequence``); ``output`` is then a PackedSequence with
    the same ``batch_sizes`` and indices, and ``h_n`` (``c_n`` for an LSTM) holds each
    sequence's state at its own last step, in the batch's original order.

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(distgrad.randn(5, 3, 10), distgrad.randn(2, 3, 20))
        >>> output.shape, hn.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        names = _SEQ_ARGS[:3] + ("nonlinearity",) + _SEQ_ARGS[3:]
        kwargs = _bind("RNN", args, kwargs, names)
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, [hx])
        return output, h_n


class LSTM(RNNBase):
    r"""Long short-term memory: per layer and step, with gates in PyTorch's order
    ``i, f, g, o`` along the rows of ``W_ih`` and ``W_hh``::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    f = sigmoid(W_if x + ... )
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)       o = sigmoid(W_io x + ... )
        c' = f * c + i * g                            h' = o * tanh(c')

    Args: as :class:`RNN` (without ``nonlinearity``), plus ``proj_size``: if > 0, ``h'`` is
    projected to that size by ``weight_hr_l{k}`` ``(proj_size, hidden_size)``.

    ``forward(input, hx=None)``: ``hx`` is a tuple ``(h_0, c_0)`` (zeros when None), ``h_0``
    ``(D * num_layers, N, proj_size or hidden_size)`` and ``c_0`` ``(D * num_layers, N,
    hidden_size)``; returns ``(output, (h_n, c_n))``.

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(distgrad.randn(5, 3, 10))
        >>> output.shape, hn.shape, cn.shape
        ((5, 3, 20), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        kwargs = _bind("LSTM", args, kwargs, _SEQ_ARGS + ("proj_size",))
        super().__init__("LSTM", **kwargs)

    def forward(self, input, hx=None):
        if hx is None:
            states = [None, None]
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            states = list(hx)
        else:
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two Tensors, got "
                            f"{type(hx).__name__}")
        output, (h_n, c_n) = self._forward(input, states)
        return output, (h_n, c_n)


class GRU(RNNBase):
    r"""Gated recurrent unit: per layer and step, with gates in PyTorch's order ``r, z, n``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Args, inputs and outputs: as :class:`RNN` (without ``nonlinearity``).

    Example::

        >>> gru = nn.GRU(10, 20, 2)
        >>> output, hn = gru(distgrad.randn(5, 3, 10), distgrad.randn(2, 3, 20))
        >>> output.shape, hn.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        kwargs = _bind("GRU", args, kwargs, _SEQ_ARGS)
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", **kwargs)

    def forward(self, input, hx=None):
        if isinstance(hx, (tuple, list)):
            raise TypeError("GRU: hx must be a Tensor (h_0), not a tuple; only LSTM takes "
                            "(h_0, c_0)")
        output, (h_n,) = self._forward(input, [hx])
        return output, h_n


# ---------------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """Base class of the cells: ``weight_ih`` ``(gates * hidden_size, input_size)``,
    ``weight_hh`` ``(gates * hidden_size, hidden_size)``, then ``bias_ih`` and ``bias_hh``,
    all from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _new_parameter((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = _new_parameter((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = _new_parameter((num_chunks * hidden_size,), dtype)
            self.bias_hh = _new_parameter((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _prepare(self, input, states):
        """Validate; return the batched input, its projection ``x W_ih^T + b_ih``, the
        batched states (zeros for None) and whether the input was batched."""
        name = type(self).__name__
        _check_input(name, input, (1, 2))
        params = self._parameters
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        _check_dtype(name, input, params["weight_ih"])
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        prepared = []
        for i, state in enumerate(states):
            if state is None:
                prepared.append(_zeros((input.shape[0], self.hidden_size), input))
                continue
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: expected the state as a Tensor, got "
                                f"{type(state).__name__}")
            if state.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {state.ndim}D "
                                 f"instead")
            if state.ndim != (2 if batched else 1):
                kind = "batched 2-D" if batched else "unbatched 1-D"
                raise RuntimeError(f"{name}: for {kind} input, the hidden state should also "
                                   f"be {2 if batched else 1}-D, got {state.ndim}-D (shape "
                                   f"{list(state.shape)})")
            if not batched:
                state = state.unsqueeze(0)
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                                   f"batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
            if state._data.dtype != input._data.dtype:
                raise RuntimeError(f"{name}: hidden{i} has dtype {state.dtype} but the input "
                                   f"has dtype {input.dtype}; they must match")
            prepared.append(state)
        proj = apply_linear(input, params["weight_ih"], params["bias_ih"])
        return proj, prepared, batched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        input_size, hidden_size: features of the input and of the hidden state.
        bias: whether to learn ``bias_ih`` and ``bias_hh`` (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    ``forward(input, hx=None)``: ``input`` ``(N, input_size)`` or ``(input_size,)``, ``hx``
    ``(N, hidden_size)`` or ``(hidden_size,)`` (zeros when None); returns ``h'``.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> hx = distgrad.randn(3, 20)
        >>> for x in distgrad.randn(6, 3, 10):
        ...     hx = cell(x, hx)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        proj, (h,), batched = self._prepare(input, [hx])
        params = self._parameters
        act = ops.relu if self.nonlinearity == "relu" else ops.tanh
        h = act(proj + apply_linear(h, params["weight_hh"], params["bias_hh"]))
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One LSTM step, gates ``i, f, g, o`` as in :class:`LSTM`.

    ``forward(input, hx=None)``: ``hx`` is a tuple ``(h, c)``, each ``(N, hidden_size)`` or
    ``(hidden_size,)`` (zeros when None); returns ``(h', c')``.

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(distgrad.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        if hx is None:
            states = [None, None]
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            states = list(hx)
        else:
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two Tensors, got "
                            f"{type(hx).__name__}")
        proj, (h, c), batched = self._prepare(input, states)
        params = self._parameters
        h, c = _lstm_cell(proj, h, c, params["weight_hh"], params["bias_hh"], None,
                          _slices(self.hidden_size, 4))
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    r"""One GRU step, gates ``r, z, n`` as in :class:`GRU`.

    ``forward(input, hx=None)``: as :class:`RNNCell`; returns ``h'``.

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(distgrad.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        proj, (h,), batched = self._prepare(input, [hx])
        params = self._parameters
        gates = _gru_gates(self.hidden_size)
        h = _gru_cell(proj[gates[3]], proj[gates[2]], h, params["weight_hh"],
                      params["bias_hh"], gates)
        return h if batched else h.squeeze(0)
