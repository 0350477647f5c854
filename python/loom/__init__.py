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
import os
import subprocess
import sys
import tempfile
import threading

from . import _runtime
from ._runtime import LOOM_DEVICE_CPU, LOOM_DEVICE_CUDA, LOOM_DYNAMIC, STORAGE_BYTES

__all__ = ["compile", "load", "Module", "Entry", "LoomError", "CompileError",
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
# Entries
# ---------------------------------------------------------------------------

_SLOW = object()  # the fast path's "take the general one"


class _Buffers:
    """One thread's descriptors of an entry's call: the packed argument
    array points into them once and for all."""

    def __init__(self, entry):
        n = len(entry.args)
        self.descs = [(ctypes.c_int64 * (3 + 2 * len(d)))() for _, d in entry.args]
        self.shapes = [None] * n
        words = sum(3 + 2 * len(d) for _, d in entry.results)
        self.area = (ctypes.c_int64 * max(words, 1))()
        self.packed = (ctypes.c_void_p * (1 + n))()
        self.packed[0] = ctypes.addressof(self.area) if entry.results else None
        for i, desc in enumerate(self.descs):
            self.packed[1 + i] = ctypes.addressof(desc)
        self.packed_address = ctypes.addressof(self.packed)
        self.dims = (ctypes.c_int64 * max(entry.num_result_dims, 1))()
        self.dims_address = ctypes.addressof(self.dims)
        self.context = _runtime.CallContext()
        self.context.size = ctypes.sizeof(_runtime.CallContext)
        self.context_address = ctypes.addressof(self.context)
        # The word at which each result's descriptor starts, and the result
        # shapes its sizes and strides were last written for.
        self.result_offsets, w = [], 0
        for _, d in entry.results:
            self.result_offsets.append(w)
            w += 3 + 2 * len(d)
        self.filled = None


def _contiguous_strides(shape):
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


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
        # Static sizes to check per argument, in stored elements.
        self._static = [[(d, s) for d, s in enumerate(_storage_dims(e, dims)) if s != LOOM_DYNAMIC]
                        for e, dims in self.args]
        self._ranks = [len(d) for _, d in self.args]
        self._arg_text = [f"argument {i} of {self.name} ({_type_text(e, d)})"
                          for i, (e, d) in enumerate(self.args)]
        static_results = all(s != LOOM_DYNAMIC for _, d in self.results for s in d)
        self._result_shapes = ([_storage_dims(e, d) for e, d in self.results]
                               if static_results else None)
        self._shape_cache = {}
        self._local = threading.local()
        self._np = None
        self._torch = None
        self._fast = None  # set by the first torch call

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

    # -- the call -----------------------------------------------------------
    def result_shapes(self, *args):
        """The stored shapes of the results for these arguments (an i4
        result's innermost size is its packed byte count), without calling
        the entry: what the destinations must be."""
        b = self._buffers()
        self._describe(args, b)
        return self._results_for(args, b)

    def shapes_for_sizes(self, shapes):
        """The stored result shapes for arguments of these stored shapes
        (sizes only: what a fake/meta implementation needs)."""
        b = self._buffers()
        if len(shapes) != self._nargs:
            raise TypeError(f"{self.name}() takes {self._nargs} argument(s) "
                            f"({self.signature}), got {len(shapes)}")
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
            rank = len(shape)
            desc[3:3 + rank] = list(shape)
            desc[3 + rank:3 + 2 * rank] = _contiguous_strides(shape)
            b.shapes[i] = shape
        return self._results_for(shapes, b)

    def __call__(self, *args):
        b = self._local.__dict__.get("b")
        if b is None:
            b = self._buffers()
        torch = sys.modules.get("torch")
        if torch is not None and args and self._fast is not None and isinstance(args[0], torch.Tensor):
            done = self._call_torch_fast(args, b, torch)
            if done is not _SLOW:
                return done
        kind, device = self._describe(args, b)
        shapes = self._results_for(args, b)
        outs = []
        w = 0
        area = b.area
        if kind == "torch":
            import torch
            dtypes = self._torch_types()[1]
            for r, shape in enumerate(shapes):
                out = torch.empty(shape, dtype=dtypes[r], device=device)
                outs.append(out)
                w = self._fill(area, w, out.data_ptr(), shape)
            # What the fast path needs: the arguments' dtypes, the device.
            self._fast = (self._torch_types()[0], self._torch_types()[1],
                          torch.device("cuda", 0) if self.cuda else torch.device("cpu"))
        else:
            import numpy as np
            dtypes = self._numpy_types()[1]
            for r, shape in enumerate(shapes):
                out = np.empty(shape, dtype=dtypes[r])
                outs.append(out)
                w = self._fill(area, w, out.__array_interface__["data"][0], shape)
        b.filled = shapes
        if self.cuda:
            import torch
            return self._run(b, outs, torch, device.index or 0)
        return self._run(b, outs)

    def _call_torch_fast(self, args, b, torch):
        """The common case, with the fewest tensor attribute reads: torch
        tensors of the right dtypes and device, contiguous, of the shapes of
        an earlier call. Anything else returns _SLOW, and the general path
        checks (and names what is wrong)."""
        if len(args) != self._nargs:
            return _SLOW
        arg_dtypes, result_dtypes, device = self._fast
        cuda = self.cuda
        shapes, descs = b.shapes, b.descs
        try:
            for i, a in enumerate(args):
                if (a.dtype is not arg_dtypes[i] or not a.is_contiguous()
                        or (a.get_device() != 0 if cuda else not a.is_cpu)
                        or a.shape != shapes[i]):
                    return _SLOW
                p = a.data_ptr()
                d = descs[i]
                d[0] = p
                d[1] = p
        except AttributeError:  # not a tensor
            return _SLOW
        result_shapes = self._result_shapes
        if result_shapes is None:
            result_shapes = self._shape_cache.get(tuple(shapes))
            if result_shapes is None:
                return _SLOW
        if b.filled is not result_shapes:
            w = 0
            for shape in result_shapes:
                w = self._fill(b.area, w, 0, shape)
            b.filled = result_shapes
        area, offsets = b.area, b.result_offsets
        outs = []
        empty = torch.empty
        for r, shape in enumerate(result_shapes):
            out = empty(shape, dtype=result_dtypes[r], device=device)
            outs.append(out)
            p = out.data_ptr()
            w = offsets[r]
            area[w] = p
            area[w + 1] = p
        return self._run(b, outs, torch if cuda else None, 0)

    def _run(self, b, outs, torch=None, device_index=0):
        """Calls the entry with the packed arguments of `b` (on torch's
        current stream of `device_index` when `torch` is given: a CUDA
        module) and returns `outs`: None, the one result, or a tuple."""
        context = None
        if torch is not None:
            b.context.stream = torch._C._cuda_getCurrentRawStream(device_index)
            context = b.context_address
        message = self._call(b.packed_address, self._nargs, context)
        if message:
            raise self._error(message.decode())
        if not outs:
            return None
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    def _fill(area, w, pointer, shape):
        rank = len(shape)
        area[w] = pointer
        area[w + 1] = pointer
        area[w + 2] = 0
        area[w + 3:w + 3 + rank] = list(shape)
        area[w + 3 + rank:w + 3 + 2 * rank] = _contiguous_strides(shape)
        return w + 3 + 2 * rank

    def _error(self, message):
        # The module's own checks name the entry; everything else is the
        # runtime's or the device's.
        if message.startswith(self.name + ":"):
            return ValueError(message)
        return LoomError(message)

    def _results_for(self, args, b):
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

    def _describe(self, args, b):
        """Checks the arguments and writes their descriptors; returns the
        kind ("torch" or "numpy") and the torch device (or None)."""
        n = len(args)
        if n != self._nargs:
            raise TypeError(f"{self.name}() takes {self._nargs} argument(s) "
                            f"({self.signature}), got {n}")
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
                pointer = a.__array_interface__["data"][0]
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
            desc = b.descs[i]
            desc[0] = pointer
            desc[1] = pointer
            if b.shapes[i] != shape:
                rank = len(shape)
                desc[3:3 + rank] = list(shape)
                desc[3 + rank:3 + 2 * rank] = _contiguous_strides(shape)
                b.shapes[i] = tuple(shape)
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


def compile(source_or_path, target="cpu", tiles=None, fusion=True, output=None,
            cuda_path=None):
    """Compiles a block with loom-compile and loads it.

    `source_or_path` is a path to a .mlir file or the MLIR text itself;
    `target` is "cpu" or a GPU ("sm_90a", "sm_80"); `tiles` overrides the
    kernels' tile sizes (loom-compile --tiles: a string or a dict such as
    {"attention": "64x64"}); `fusion=False` lowers op by op. The shared library is written to `output` (default: a
    temporary directory).
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
    workdir = tempfile.mkdtemp(prefix="loom-")
    if text is not None:
        path = os.path.join(workdir, "block.mlir")
        with open(path, "w") as f:
            f.write(text)
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"no such MLIR file: '{path}'")
    if output is None:
        stem = os.path.splitext(os.path.basename(path))[0]
        output = os.path.join(workdir, f"{stem}.{target}.so")
    command = [tool, path, f"--target={target}", "-o", os.fspath(output)]
    tiles_text = _tiles_text(tiles)
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
    return load(output)


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
