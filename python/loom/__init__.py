"""Loom from Python: compile a block, load the module, call its entries on
numpy arrays or torch tensors (CPU or CUDA), zero-copy.

    import loom, torch
    block = loom.compile("examples/llama_block.mlir", target="sm_90a")
    y = block.llama_block(*tensors)          # torch in, torch out, on the current stream

An entry call checks the count, dtypes, ranks, static sizes, contiguity and
devices of its arguments (TypeError for a wrong count, kind or dtype,
ValueError for the rest; the module's own size checks come back as
ValueError too), allocates its results with the caller's library (torch
tensors on the arguments' device, numpy arrays for numpy arguments), and
calls the module's destination-passing entry (docs/abi.md, ABI 4): on the
caller's current CUDA stream, without synchronizing. docs/python.md has the
details.
"""
import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from . import _runtime
from ._runtime import LOOM_DEVICE_CPU, LOOM_DEVICE_CUDA, LOOM_DYNAMIC, STORAGE_BYTES

__all__ = ["compile", "cache_dir", "load", "Module", "Entry", "LoomError", "CompileError",
           "synchronize", "pack_i4", "unpack_i4"]


class LoomError(RuntimeError):
    """A failure of the runtime or the device (a failed launch or
    allocation, a kernel fault found at a synchronization)."""


class CompileError(RuntimeError):
    """loom-compile refused the block; the message is its diagnostics."""


# ---------------------------------------------------------------------------
# Element types
# ---------------------------------------------------------------------------

def _numpy_dtypes():
    import numpy as np
    table = {"f32": np.dtype(np.float32), "f16": np.dtype(np.float16),
             "f64": np.dtype(np.float64), "i1": np.dtype(np.bool_),
             "i4": np.dtype(np.uint8), "i8": np.dtype(np.int8),
             "i32": np.dtype(np.int32), "i64": np.dtype(np.int64)}
    try:  # bfloat16 and float8 as numpy dtypes, where ml_dtypes is installed
        import ml_dtypes
        table["bf16"] = np.dtype(ml_dtypes.bfloat16)
        table["f8E4M3FN"] = np.dtype(ml_dtypes.float8_e4m3fn)
    except ImportError:  # their bit patterns
        table["bf16"] = np.dtype(np.uint16)
        table["f8E4M3FN"] = np.dtype(np.uint8)
    return table


def _torch_dtypes():
    import torch
    return {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16,
            "f64": torch.float64, "f8E4M3FN": torch.float8_e4m3fn,
            "i1": torch.bool, "i4": torch.uint8, "i8": torch.int8,
            "i32": torch.int32, "i64": torch.int64}


def _storage_dims(elem, dims):
    """The stored sizes of logical sizes: an i4 tensor is packed two per
    byte along its innermost dimension."""
    dims = list(dims)
    if elem == "i4" and dims and dims[-1] != LOOM_DYNAMIC:
        dims[-1] //= 2
    return tuple(dims)


def _type_text(elem, dims):
    return "tensor<" + "".join(("?" if d == LOOM_DYNAMIC else str(d)) + "x" for d in dims) + elem + ">"


def pack_i4(values):
    """Integers in [-8, 7] (numpy or torch, innermost size even) -> the packed
    uint8 storage of an i4 tensor (the even index in the low nibble)."""
    v = values & 0xF
    lo, hi = v[..., 0::2], v[..., 1::2]
    if hasattr(values, "numpy"):  # torch
        import torch
        return (lo.to(torch.uint8) | (hi.to(torch.uint8) << 4)).contiguous()
    import numpy as np
    return np.ascontiguousarray((lo.astype(np.uint8) | (hi.astype(np.uint8) << 4)))


def unpack_i4(packed):
    """The packed uint8 storage of an i4 tensor -> int8 values in [-8, 7]."""
    if hasattr(packed, "numpy"):
        import torch
        p = packed.to(torch.int16)
        lo, hi = p & 0xF, (p >> 4) & 0xF
        out = torch.stack([lo, hi], dim=-1).reshape(*p.shape[:-1], p.shape[-1] * 2)
        return torch.where(out >= 8, out - 16, out).to(torch.int8)
    import numpy as np
    p = packed.astype(np.int16)
    lo, hi = p & 0xF, (p >> 4) & 0xF
    out = np.stack([lo, hi], axis=-1).reshape(*p.shape[:-1], p.shape[-1] * 2)
    return np.where(out >= 8, out - 16, out).astype(np.int8)


# ---------------------------------------------------------------------------
# What calls use
# ---------------------------------------------------------------------------

_SLOW = object()  # a fast path's "take the general one"


def _contiguous_strides(shape):
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def _torch_strides(shape):
    """The strides torch.empty gives a tensor of this shape (a 0 size counts
    as 1, as in torch's contiguous strides)."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * max(shape[d + 1], 1)
    return tuple(strides)


def _numpy_pointer(a, _from_buffer=ctypes.c_char.from_buffer, _addressof=ctypes.addressof):
    """The address of a contiguous numpy array's first element: through the
    buffer protocol (a fifth of __array_interface__'s cost), or, for what
    exports no writable buffer (read-only or empty arrays, dtypes without a
    buffer format), through __array_interface__."""
    try:
        return _addressof(_from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.__array_interface__["data"][0]


# ---------------------------------------------------------------------------
# torch's low-overhead internals
# ---------------------------------------------------------------------------
# A repeated call with tensors like those of an earlier call checks all of
# them with one C++ call of torch's tensor guard
# (torch._C._dynamo.guards.TensorGuards, what torch.compile's guards use: the
# Python type, the dispatch keys (so the device type), dtype, device index,
# requires_grad, rank, and the sizes and strides it is given) instead of
# five attribute reads per tensor in Python, and allocates its results with
# torch's low-overhead empty_strided (what inductor's generated code calls)
# instead of torch.empty. Both are private, so each is used only after it was
# seen to behave as a call needs (_TorchHelpers below); where it is missing
# or misbehaves, or LOOM_TORCH_INTERNALS=0, the calls read the tensors'
# attributes and use torch.empty. Either way a call checks the same things
# and raises the same errors: a tensor the guard does not accept takes the
# general path, which names what is wrong.

class _TorchHelpers:
    def __init__(self, torch, enabled):
        self.torch = torch
        self.data_ptr = torch.Tensor.data_ptr
        self.guard = None      # TensorGuards, if it checks what a call needs
        self.empty_cpu = None  # _empty_strided_cpu(sizes, strides, dtype)
        self.empty_cuda = None  # the same on the current CUDA device, or False: not yet checked
        self.transient = False  # made inside a torch dispatch mode, for one call
        # Whether torch dispatch or function modes are active (empty_strided
        # bypasses them: torch.empty is used then).
        self.dispatch_modes = getattr(torch._C, "_len_torch_dispatch_stack", None)
        self.function_modes = getattr(torch._C, "_is_torch_function_mode_enabled", None)
        guards = getattr(getattr(torch._C, "_dynamo", None), "guards", None)
        if not enabled or guards is None:
            return
        self._guards = guards
        try:
            if self._guard_works(guards.TensorGuards):
                self.guard = guards.TensorGuards
        except Exception:
            pass
        if self.dispatch_modes is None or self.function_modes is None:
            return
        try:
            empty = guards._empty_strided_cpu
            if self._empty_works(empty((2, 3), (3, 1), torch.float16), torch.device("cpu")):
                self.empty_cpu = empty
        except Exception:
            pass
        self.empty_cuda = False if hasattr(guards, "_empty_strided_cuda") else None

    def _guard_works(self, tensor_guards):
        torch = self.torch
        a, b = torch.zeros(2, 3), torch.zeros(4, dtype=torch.int32)
        check = tensor_guards(a, b, dynamic_dims_sizes=[[None, 3], [4]],
                              dynamic_dims_strides=[[3, 1], [1]]).check
        accepts = [(a, b), (torch.zeros(5, 3), b), (torch.zeros(7, 3)[2:], b.clone())]
        refuses = [(a.double(), b), (torch.zeros(2, 4), b), (torch.zeros(2, 3, 1), b),
                   (torch.zeros(3, 2).t(), b), (torch.zeros(2, 6)[:, :3], b),
                   (a, b[:2]), (a, torch.zeros(8, dtype=torch.int32)[::2]),
                   (a.to("meta"), b), (torch.nn.Parameter(a), b), (a, [0, 0, 0, 0]),
                   (a, b.numpy())]
        return (all(check(*x) is True for x in accepts)
                and all(check(*x) is False for x in refuses))

    def _empty_works(self, t, device):
        torch = self.torch
        return (type(t) is torch.Tensor and t.shape == (2, 3) and t.stride() == (3, 1)
                and t.dtype is torch.float16 and t.device == device
                and not t.requires_grad and t.is_contiguous())

    def cuda_empty(self):
        """_empty_strided_cuda once it was seen to allocate on the current
        device (checked on the first call with device 0 current and no
        torch mode active), else None."""
        if self.empty_cuda is False:
            torch = self.torch
            if torch._C._cuda_getDevice() != 0 or self.dispatch_modes():
                return None
            empty = self._guards._empty_strided_cuda
            try:
                with torch._C.DisableTorchFunction():
                    ok = self._empty_works(empty((2, 3), (3, 1), torch.float16),
                                           torch.device("cuda", 0))
            except Exception:
                ok = False
            self.empty_cuda = empty if ok else None
        return self.empty_cuda


_torch_helpers_made = None


def _torch_helpers(torch):
    """The process's _TorchHelpers, made on the first torch call outside any
    torch dispatch mode, with torch function modes (`with torch.device(...)`)
    turned off while their checks make tensors. Inside a dispatch mode a
    call gets transient helpers without internals."""
    global _torch_helpers_made
    if _torch_helpers_made is None:
        plain = _TorchHelpers(torch, False)
        if plain.dispatch_modes is not None and plain.dispatch_modes():
            plain.transient = True
            return plain
        if os.environ.get("LOOM_TORCH_INTERNALS", "1") in ("0", "no", "off", "false"):
            _torch_helpers_made = plain
        else:
            with torch._C.DisableTorchFunction():
                _torch_helpers_made = _TorchHelpers(torch, True)
    return _torch_helpers_made


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------

class _Buffers:
    """One thread's descriptors of an entry's call, made once: the packed
    argument array points into them for good, and the ctypes arguments of
    the call are made here too. The arguments' descriptors lie `stride`
    words apart in one array, so that a call writes every data pointer with
    two slice assignments."""

    def __init__(self, entry):
        c_int64 = ctypes.c_int64
        n = entry._nargs
        stride = entry._desc_stride
        self.stride = stride
        self.end = n * stride
        self.words = (c_int64 * max(n * stride, 1))()
        base = ctypes.addressof(self.words)
        self.descs = [(c_int64 * (3 + 2 * len(d))).from_buffer(self.words, 8 * stride * i)
                      for i, (_, d) in enumerate(entry.args)]
        self.shapes = [None] * n          # the sizes written in each descriptor
        words = sum(3 + 2 * len(d) for _, d in entry.results)
        self.area = (c_int64 * max(words, 1))()
        self.packed = (ctypes.c_void_p * (1 + n))()
        self.packed[0] = ctypes.addressof(self.area) if entry.results else None
        for i in range(n):
            self.packed[1 + i] = base + 8 * stride * i
        self.packed_address = ctypes.addressof(self.packed)
        self.dims = (c_int64 * max(entry.num_result_dims, 1))()
        self.dims_address = ctypes.addressof(self.dims)
        self.context = _runtime.CallContext()
        self.context.size = ctypes.sizeof(_runtime.CallContext)
        self.context_address = ctypes.addressof(self.context)
        self.stream_word = (ctypes.c_uint64 * 1).from_buffer(
            self.context, _runtime.CallContext.stream.offset)  # context.stream
        # The call's arguments as ctypes objects (no conversion per call).
        self.packed_arg = ctypes.c_void_p(self.packed_address)
        self.nargs_arg = c_int64(n)
        self.context_arg = ctypes.c_void_p(self.context_address) if entry.cuda else None
        # What the descriptors hold: the data pointers last written (None:
        # unknown), the result shapes of the argument sizes in `shapes`
        # (None: not computed), the result shapes whose sizes and strides
        # are in `area` and their torch strides.
        self.ptrs = None
        self.results = None
        self.filled = None
        self.torch_results = None
        # The fast path armed by the last general call: `guard` (torch's
        # tensor guard's check) or `fast` (a method), None for neither.
        self.guard = None
        self.fast = None
        self.helpers = None   # _TorchHelpers, for torch calls
        self.ndarray = None   # numpy.ndarray, for numpy calls
        self.device = None    # the torch device of the results


class Entry:
    """An entry of a loaded module: call it with arrays or tensors."""

    def __init__(self, module, handle):
        l = _runtime.lib()
        self.module = module
        self.name = l.loomEntryName(handle).decode()
        self.signature = l.loomEntrySignature(handle).decode()
        self.args = _runtime.entry_types(handle, l.loomEntryNumArgs, l.loomEntryArgType)
        self.results = _runtime.entry_types(handle, l.loomEntryNumResults, l.loomEntryResultType)
        self.num_result_dims = sum(len(d) for _, d in self.results)
        self.cuda = module.device == LOOM_DEVICE_CUDA
        self._device_type = "cuda" if self.cuda else "cpu"
        shape_fn = l.loomEntryShapeFunction(handle)
        call_fn = l.loomEntryCallFunction(handle)
        if not shape_fn or not call_fn:
            raise LoomError(
                f"module '{module.path}' has no destination-passing entries "
                f"(it is older than ABI 4): recompile it with this loom-compile")
        self._shape = _runtime.SHAPE_FN(shape_fn)
        self._call = _runtime.CALL_FN(call_fn)
        self._nargs = len(self.args)
        stored = [_storage_dims(e, dims) for e, dims in self.args]
        # Static sizes to check per argument, in stored elements.
        self._static = [[(d, s) for d, s in enumerate(dims) if s != LOOM_DYNAMIC]
                        for dims in stored]
        self._ranks = [len(d) for _, d in self.args]
        self._desc_stride = 3 + 2 * max(self._ranks, default=0)
        self._arg_text = [f"argument {i} of {self.name} ({_type_text(e, d)})"
                          for i, (e, d) in enumerate(self.args)]
        # What torch's tensor guard checks of each argument: the static
        # sizes, and the strides of a contiguous tensor that the static sizes
        # fix (those inside every dynamic dimension); None for the rest.
        self._guard_sizes = [[None if s == LOOM_DYNAMIC else s for s in dims] for dims in stored]
        self._guard_strides = []
        for dims in stored:
            strides, known, stride = [], True, 1
            for s in reversed(dims):
                strides.append(stride if known else None)
                if s == LOOM_DYNAMIC:
                    known = False
                else:
                    stride *= max(s, 1)
            self._guard_strides.append(strides[::-1])
        # The arguments with a dynamic size (the fast path reads their shapes)
        # and whether the guard leaves one of their strides unchecked (the
        # fast path then checks their contiguity).
        self._dynamic_args = tuple((i, None in self._guard_strides[i])
                                   for i, dims in enumerate(stored) if LOOM_DYNAMIC in dims)
        static_results = all(s != LOOM_DYNAMIC for _, d in self.results for s in d)
        self._result_shapes = ([_storage_dims(e, d) for e, d in self.results]
                               if static_results else None)
        self._result_offsets = []
        w = 0
        for _, d in self.results:
            self._result_offsets.append(w)
            w += 3 + 2 * len(d)
        self._nresults = len(self.results)
        self._shape_cache = {}
        self._local = threading.local()
        self._np = None
        self._torch = None

    def __repr__(self):
        return f"<loom entry {self.signature} on {self.module.target}>"

    # -- per-thread state and dtype tables, made on first use ---------------
    def _buffers(self):
        b = getattr(self._local, "b", None)
        if b is None:
            b = self._local.b = _Buffers(self)
        return b

    def _torch_types(self):
        if self._torch is None:
            t = _torch_dtypes()
            self._torch = ([t[e] for e, _ in self.args], [t[e] for e, _ in self.results])
        return self._torch

    def _numpy_types(self):
        if self._np is None:
            t = _numpy_dtypes()
            self._np = ([t[e] for e, _ in self.args], [t[e] for e, _ in self.results])
        return self._np

    # -- shapes ---------------------------------------------------------------
    def result_shapes(self, *args):
        """The stored shapes of the results for these arguments (an i4
        result's innermost size is its packed byte count), without calling
        the entry: what the destinations must be."""
        b = self._buffers()
        self._describe(args, b)
        return self._results_for(b)

    def shapes_for_sizes(self, shapes):
        """The stored result shapes for arguments of these stored shapes
        (sizes only: what a fake/meta implementation needs)."""
        b = self._buffers()
        if len(shapes) != self._nargs:
            raise TypeError(f"{self.name}() takes {self._nargs} argument(s) "
                            f"({self.signature}), got {len(shapes)}")
        b.ptrs = None
        for i, shape in enumerate(shapes):
            shape = tuple(int(s) for s in shape)
            if len(shape) != self._ranks[i]:
                raise ValueError(f"{self._arg_text[i]} has rank {len(shape)} "
                                 f"(shape {shape})")
            for d, s in self._static[i]:
                if shape[d] != s:
                    raise ValueError(f"{self._arg_text[i]} has shape {shape}: "
                                     f"dimension {d} must be {s}")
            desc = b.descs[i]
            desc[0] = desc[1] = 0
            if b.shapes[i] != shape:
                self._set_shape(b, i, shape)
        return self._results_for(b)

    @staticmethod
    def _set_shape(b, i, shape):
        """Writes argument i's sizes and strides (shape: a tuple)."""
        desc = b.descs[i]
        rank = len(shape)
        desc[3:3 + rank] = shape
        desc[3 + rank:3 + 2 * rank] = _contiguous_strides(shape)
        b.shapes[i] = shape
        b.results = None

    def _results_for(self, b):
        """The result shapes for the argument sizes in b's descriptors."""
        if self._result_shapes is not None:
            return self._result_shapes
        key = tuple(b.shapes)
        shapes = self._shape_cache.get(key)
        if shapes is not None:
            return shapes
        message = self._shape(b.packed_address, self._nargs, b.dims_address)
        if message:
            raise self._error(message.decode())
        shapes, k = [], 0
        for e, dims in self.results:
            logical = [b.dims[k + d] for d in range(len(dims))]
            k += len(dims)
            if e == "i4" and logical:
                logical[-1] //= 2
            shapes.append(tuple(logical))
        if len(self._shape_cache) < 64:
            self._shape_cache[key] = shapes
        return shapes

    def _set_results(self, b, shapes):
        """Writes the results' sizes and strides into the destinations'
        descriptors (their pointers are written per call)."""
        area = b.area
        for w, shape in zip(self._result_offsets, shapes):
            rank = len(shape)
            area[w + 2] = 0
            area[w + 3:w + 3 + rank] = shape
            area[w + 3 + rank:w + 3 + 2 * rank] = _contiguous_strides(shape)
        b.filled = shapes
        b.torch_results = None

    # -- the call -------------------------------------------------------------
    def __call__(self, *args):
        try:
            b = self._local.b
        except AttributeError:
            b = self._buffers()
        guard = b.guard
        if guard is not None:
            # torch tensors: one C++ check of every argument's type, device,
            # dtype, rank, static sizes and the strides they fix.
            try:
                hit = len(args) == self._nargs and guard(*args)
            except Exception:  # the general path says what is wrong
                hit = False
            if hit:
                results = b.results
                for i, unchecked_strides in self._dynamic_args:
                    a = args[i]
                    if unchecked_strides and not a.is_contiguous():
                        return self._call_general(args, b)
                    shape = a.shape
                    if shape != b.shapes[i]:
                        self._set_shape(b, i, tuple(shape))
                        results = None
                if results is None:
                    results = b.results = self._results_for(b)
                h = b.helpers
                ptrs = list(map(h.data_ptr, args))
                if ptrs != b.ptrs:
                    words, end, stride = b.words, b.end, b.stride
                    words[0:end:stride] = ptrs
                    words[1:end:stride] = ptrs
                    b.ptrs = ptrs
                return self._finish_torch(b, results, h)
        elif b.fast is not None:
            done = b.fast(args, b)
            if done is not _SLOW:
                return done
        return self._call_general(args, b)

    def _finish_torch(self, b, results, h):
        """Allocates the results for torch (on b.device), writes their
        pointers, calls on torch's current stream."""
        if b.filled is not results:
            self._set_results(b, results)
        specs = b.torch_results
        if specs is None:  # (shape, strides, dtype, descriptor word) of each result
            specs = b.torch_results = [
                (s, _torch_strides(s), dt, w)
                for s, dt, w in zip(results, self._torch[1], self._result_offsets)]
        torch = h.torch
        cuda = self.cuda
        empty = h.empty_cuda if cuda else h.empty_cpu
        if empty is False:  # not checked yet
            empty = h.cuda_empty()
        # torch.empty where a torch function or dispatch mode is active (so
        # that it sees the allocation as before), and on CUDA where device 0
        # is not the current device (empty_strided allocates there).
        if empty and (h.dispatch_modes() or h.function_modes()
                      or (cuda and torch._C._cuda_getDevice() != 0)):
            empty = None
        area = b.area
        outs = []
        for shape, strides, dtype, w in specs:
            if empty:
                out = empty(shape, strides, dtype)
            else:
                out = torch.empty(shape, dtype=dtype, device=b.device)
            p = out.data_ptr()
            area[w] = p
            area[w + 1] = p
            outs.append(out)
        if cuda:
            b.stream_word[0] = torch._C._cuda_getCurrentRawStream(0)
            return self._invoke(b, outs, b.context_arg)
        return self._invoke(b, outs, None)

    def _fast_torch(self, args, b):
        """torch tensors without torch's tensor guard: five attribute reads
        per tensor. Anything but the shapes of the last call returns _SLOW,
        and the general path checks (and names what is wrong)."""
        if len(args) != self._nargs:
            return _SLOW
        h = b.helpers
        tensor = h.torch.Tensor
        cuda = self.cuda
        ptrs = []
        for a, dtype, shape in zip(args, self._torch[0], b.shapes):
            if (not isinstance(a, tensor) or a.dtype is not dtype or a.shape != shape
                    or not a.is_contiguous()
                    or (a.get_device() != 0 if cuda else not a.is_cpu)):
                return _SLOW
            ptrs.append(a.data_ptr())
        self._write_pointers(b, ptrs)
        results = b.results
        if results is None:
            results = b.results = self._results_for(b)
        return self._finish_torch(b, results, h)

    def _fast_numpy(self, args, b):
        """numpy arrays of the shapes of the last call: four attribute
        reads and the data pointer per array; anything else returns _SLOW."""
        if len(args) != self._nargs:
            return _SLOW
        ndarray = b.ndarray
        ptrs = []
        for a, dtype, shape in zip(args, self._np[0], b.shapes):
            if (type(a) is not ndarray or a.dtype is not dtype or a.shape != shape
                    or not a.flags.c_contiguous):
                return _SLOW
            ptrs.append(_numpy_pointer(a))
        self._write_pointers(b, ptrs)
        results = b.results
        if results is None:
            results = b.results = self._results_for(b)
        return self._finish_numpy(b, results)

    @staticmethod
    def _write_pointers(b, ptrs):
        if ptrs != b.ptrs:
            words, end, stride = b.words, b.end, b.stride
            words[0:end:stride] = ptrs
            words[1:end:stride] = ptrs
            b.ptrs = ptrs

    def _finish_numpy(self, b, results):
        if b.filled is not results:
            self._set_results(b, results)
        empty = sys.modules["numpy"].empty
        outs = [empty(s, dt) for s, dt in zip(results, self._np[1])]
        area = b.area
        for w, out in zip(self._result_offsets, outs):
            p = _numpy_pointer(out)
            area[w] = p
            area[w + 1] = p
        return self._invoke(b, outs, None)

    def _invoke(self, b, outs, context):
        """Calls the entry with b's packed arguments (and `context`, a CUDA
        module's) and returns `outs`: the one result, a tuple, or None."""
        message = self._call(b.packed_arg, b.nargs_arg, context)
        if message:
            raise self._error(message.decode())
        n = self._nresults
        return outs[0] if n == 1 else tuple(outs) if n else None

    def _call_general(self, args, b):
        """Any call: checks every argument (naming what is wrong), writes
        the descriptors, and arms the fast path for calls like this one."""
        b.guard = b.fast = None
        kind, device = self._describe(args, b)
        results = b.results = self._results_for(b)
        if kind == "torch":
            import torch
            h = b.helpers = _torch_helpers(torch)
            self._torch_types()
            if device is None:  # no arguments
                device = torch.device("cuda", 0) if self.cuda else torch.device("cpu")
            b.device = device
            if h.transient:  # inside a torch dispatch mode: no fast path armed
                return self._finish_torch(b, results, h)
            if h.guard is not None:
                try:
                    guard = h.guard(*args, dynamic_dims_sizes=self._guard_sizes,
                                    dynamic_dims_strides=self._guard_strides).check
                    # Tensors the guard refuses (contiguous with other
                    # strides) keep the general path.
                    if guard(*args):
                        b.guard = guard
                except Exception:
                    pass
            if b.guard is None:
                b.fast = self._fast_torch
            return self._finish_torch(b, results, h)
        import numpy as np
        self._numpy_types()
        b.ndarray = np.ndarray
        b.fast = self._fast_numpy
        return self._finish_numpy(b, results)

    def _error(self, message):
        # The module's own checks name the entry; everything else is the
        # runtime's or the device's.
        if message.startswith(self.name + ":"):
            return ValueError(message)
        return LoomError(message)

    def _describe(self, args, b):
        """Checks the arguments and writes their descriptors; returns the
        kind ("torch" or "numpy") and the torch device (or None)."""
        n = len(args)
        if n != self._nargs:
            raise TypeError(f"{self.name}() takes {self._nargs} argument(s) "
                            f"({self.signature}), got {n}")
        b.ptrs = None
        torch_tensor = None
        if "torch" in sys.modules:
            torch_tensor = sys.modules["torch"].Tensor
        kind = None
        device = None
        for i, a in enumerate(args):
            if torch_tensor is not None and isinstance(a, torch_tensor):
                if kind == "numpy":
                    raise TypeError(f"{self._arg_text[i]} is a torch tensor, but earlier "
                                    f"arguments are numpy arrays: pass one kind")
                kind = "torch"
                expected = self._torch_types()[0][i]
                if a.dtype != expected:
                    raise TypeError(f"{self._arg_text[i]} has dtype {a.dtype}, "
                                    f"expected {expected}")
                where = a.device
                if where.type != self._device_type:
                    raise ValueError(f"{self._arg_text[i]} is on {where}; the module "
                                     f"({self.module.target}) runs on {self._device_type}")
                if device is None:
                    device = where
                    if self.cuda and (device.index or 0) != 0:
                        raise ValueError(f"{self._arg_text[i]} is on {device}; Loom "
                                         f"runs on CUDA device 0")
                elif where != device:
                    raise ValueError(f"{self._arg_text[i]} is on {where}, "
                                     f"argument 0 on {device}")
                shape = a.shape
                contiguous = a.is_contiguous()
                pointer = a.data_ptr()
            else:
                np = sys.modules.get("numpy")
                if np is None or not isinstance(a, np.ndarray):
                    raise TypeError(f"{self._arg_text[i]} is a {type(a).__name__}; "
                                    f"entries take numpy arrays or torch tensors")
                if kind == "torch":
                    raise TypeError(f"{self._arg_text[i]} is a numpy array, but earlier "
                                    f"arguments are torch tensors: pass one kind")
                kind = "numpy"
                if self.cuda:
                    raise ValueError(f"{self._arg_text[i]} is a numpy array (host "
                                     f"memory); the module ({self.module.target}) "
                                     f"runs on cuda: pass CUDA torch tensors")
                expected = self._numpy_types()[0][i]
                if a.dtype != expected:
                    raise TypeError(f"{self._arg_text[i]} has dtype {a.dtype}, "
                                    f"expected {expected}")
                shape = a.shape
                contiguous = a.flags.c_contiguous
                pointer = None
            if len(shape) != self._ranks[i]:
                raise ValueError(f"{self._arg_text[i]} has rank {len(shape)} "
                                 f"(shape {tuple(shape)})")
            for d, s in self._static[i]:
                if shape[d] != s:
                    raise ValueError(f"{self._arg_text[i]} has shape {tuple(shape)}: "
                                     f"dimension {d} must be {s}"
                                     + (" (packed i4 bytes)" if self.args[i][0] == "i4"
                                        and d == len(shape) - 1 else ""))
            if not contiguous:
                raise ValueError(f"{self._arg_text[i]} is not contiguous (row-major); "
                                 f"entries take contiguous memory, without copies: "
                                 f"pass .contiguous() / np.ascontiguousarray()")
            if pointer is None:
                pointer = _numpy_pointer(a)
            desc = b.descs[i]
            desc[0] = pointer
            desc[1] = pointer
            if b.shapes[i] != shape:
                self._set_shape(b, i, tuple(shape))
        return kind or ("torch" if self.cuda else "numpy"), device


# ---------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------

class Module:
    """A loaded module: its entries are attributes (`module.block(...)`)
    and items (`module["block"]`)."""

    def __init__(self, path, device=None):
        l = _runtime.lib()
        path = os.fspath(path)
        if device is None:
            device = _module_device(path)
        handle = l.loomModuleLoad(path.encode(), device)
        if not handle:
            raise LoomError(_runtime.last_error())
        self._handle = handle
        self.path = path
        self.device = device
        self.target = l.loomModuleTarget(handle).decode()
        self.signature = l.loomModuleSignature(handle).decode()
        self.entries = {}
        for i in range(l.loomModuleNumEntries(handle)):
            e = Entry(self, l.loomModuleGetEntry(handle, i))
            self.entries[e.name] = e

    def __getattr__(self, name):
        entries = self.__dict__.get("entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(f"module '{self.__dict__.get('path')}' has no entry "
                             f"'{name}' (entries: {', '.join(entries) or 'none'})")

    def __getitem__(self, name):
        try:
            return self.entries[name]
        except KeyError:
            raise KeyError(f"module '{self.path}' has no entry '{name}' "
                           f"(entries: {', '.join(self.entries) or 'none'})") from None

    def __repr__(self):
        return f"<loom module {self.path} ({self.target}): {', '.join(self.entries)}>"


def _module_device(path):
    """CUDA for a module whose signature names an sm_ target, else the CPU:
    read from the file's signature string without loading it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LoomError(f"cannot open module '{path}': {e.strerror}") from None
    i = data.find(b"\ntarget ")
    if i >= 0 and data[i + 8:i + 11] == b"sm_":
        return LOOM_DEVICE_CUDA
    return LOOM_DEVICE_CPU


def load(path):
    """Loads a shared library that loom-compile made (any target); the
    runtime checks its integrity record and signature first."""
    return Module(path)


def _tiles_text(tiles):
    if tiles is None:
        return None
    if isinstance(tiles, str):
        return tiles
    if isinstance(tiles, dict):
        return ",".join(f"{k}:{v}" for k, v in tiles.items())
    raise TypeError(f"tiles must be a string ('attention:64x64,gemm:128x128x32') "
                    f"or a dict, not {type(tiles).__name__}")


def cache_dir():
    """Where compile() keeps the modules it made: $LOOM_CACHE_DIR, else
    $XDG_CACHE_HOME/loom/modules, else ~/.cache/loom/modules."""
    if os.environ.get("LOOM_CACHE_DIR"):
        return os.environ["LOOM_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "loom", "modules")


def _file_identity(path):
    """(real path, size, modification time) of a file, or None."""
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
        return (real, st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def _cache_key(tool, source, target, tiles_text, fusion, cuda_path):
    """What a compilation's output depends on: the source's bytes, the
    options, loom-compile itself and, for a GPU target, the ptxas that
    loom-compile would find (the same search order: --cuda-path,
    $LOOM_CUDA_PATH, /usr/local/cuda, PATH)."""
    h = hashlib.sha256()

    def put(*parts):
        for part in parts:
            data = part if isinstance(part, bytes) else repr(part).encode()
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    put(b"loom-compile cache 1", source, target, tiles_text or "", bool(fusion), _file_identity(tool))
    if target != "cpu":
        roots = [cuda_path, os.environ.get("LOOM_CUDA_PATH"), "/usr/local/cuda"]
        ptxas = next((os.path.join(r, "bin", "ptxas") for r in roots
                      if r and os.path.isfile(os.path.join(r, "bin", "ptxas"))), None)
        put(cuda_path or "", os.environ.get("LOOM_CUDA_PATH", ""),
            _file_identity(ptxas or shutil.which("ptxas") or ""))
    return h.hexdigest()


def compile(source_or_path, target="cpu", tiles=None, fusion=True, output=None,
            cuda_path=None, cache=None):
    """Compiles a block with loom-compile and loads it.

    `source_or_path` is a path to a .mlir file or the MLIR text itself;
    `target` is "cpu" or a GPU ("sm_90a", "sm_80"); `tiles` overrides the
    kernels' tile sizes (loom-compile --tiles: a string or a dict such as
    {"attention": "64x64"}); `fusion=False` lowers op by op. The shared library is written to `output` (default: a
    temporary directory).

    Compiled modules are kept in cache_dir(), keyed by the source's bytes,
    the options, loom-compile's file (path, size, time) and, for a GPU, the
    ptxas it would use: compiling the same block again loads the kept module
    instead of running loom-compile (Loom's output is the same on every run).
    `cache=False`, or LOOM_CACHE=0 in the environment, compiles every time.
    A kept module that no longer loads is compiled again.
    Raises CompileError with loom-compile's diagnostics."""
    if not isinstance(target, str) or not (target == "cpu" or target.startswith("sm_")):
        raise ValueError(f"target must be 'cpu' or a CUDA architecture such as "
                         f"'sm_90a', not {target!r}")
    tool = _runtime.find_compiler()
    text = None
    if isinstance(source_or_path, os.PathLike):
        path = os.fspath(source_or_path)
    elif isinstance(source_or_path, str):
        looks_like_text = "\n" in source_or_path or "{" in source_or_path
        if looks_like_text:
            text = source_or_path
            path = None
        else:
            path = source_or_path
    else:
        raise TypeError(f"compile() takes MLIR text or a path, not "
                        f"{type(source_or_path).__name__}")
    tiles_text = _tiles_text(tiles)
    if text is None and not os.path.isfile(path):
        raise FileNotFoundError(f"no such MLIR file: '{path}'")
    if cache is None:
        cache = os.environ.get("LOOM_CACHE", "1") != "0"
    kept = None
    if cache:
        if text is not None:
            source = text.encode()
        else:
            with open(path, "rb") as f:
                source = f.read()
        kept = os.path.join(cache_dir(), _cache_key(tool, source, target, tiles_text, fusion,
                                                    cuda_path) + ".so")
        if os.path.isfile(kept):
            try:
                if output is None:
                    return load(kept)
                shutil.copyfile(kept, os.fspath(output))
                return load(output)
            except (LoomError, OSError):
                pass  # a kept module that does not load: compile it again
    workdir = tempfile.mkdtemp(prefix="loom-")
    if text is not None:
        path = os.path.join(workdir, "block.mlir")
        with open(path, "w") as f:
            f.write(text)
    if output is None:
        stem = os.path.splitext(os.path.basename(path))[0]
        output = os.path.join(workdir, f"{stem}.{target}.so")
    command = [tool, path, f"--target={target}", "-o", os.fspath(output)]
    if tiles_text:
        command.append(f"--tiles={tiles_text}")
    if not fusion:
        command.append("--no-fusion")
    if cuda_path:
        command.append(f"--cuda-path={cuda_path}")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise CompileError(done.stderr.strip() or
                           f"loom-compile exited with status {done.returncode}")
    module = load(output)
    if kept is not None:
        # Kept for the next compile() of the same block: a copy renamed into
        # place, so that another process never sees a partial file.
        try:
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            partial = f"{kept}.{os.getpid()}.{threading.get_ident()}.tmp"
            shutil.copyfile(os.fspath(output), partial)
            os.replace(partial, kept)
        except OSError:
            pass  # an unwritable cache only costs the next compilation
    return module


def synchronize(stream=None):
    """Waits for the CUDA stream (default: torch's current stream) and raises
    LoomError if a kernel faulted, naming the last Loom kernel launched on
    this thread (torch's own synchronize reports the fault without it)."""
    if stream is None:
        import torch
        stream = torch.cuda.current_stream().cuda_stream
    elif hasattr(stream, "cuda_stream"):
        stream = stream.cuda_stream
    message = _runtime.lib().loomCudaStreamSynchronize(stream)
    if message:
        raise LoomError(message.decode())


def last_kernel():
    """The last Loom kernel launched on this thread ("" if none)."""
    return _runtime.lib().loomCudaLastKernel().decode()
