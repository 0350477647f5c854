"""ctypes binding of the Loom runtime C API (include/loom/Runtime/Runtime.h),
with torch tensors as the host and device arrays.

Load it before any module: `rt = Runtime("libloomrt.so")` opens the library
with RTLD_GLOBAL, so that compiled GPU modules resolve the runtime's mgpu*
functions against it.
"""
import ctypes
import os

import torch

LOOM_DEVICE_CPU = 0
LOOM_DEVICE_CUDA = 1
LOOM_DYNAMIC = -1

# loomDType, in the enum's order.
DTYPES = ["f32", "f16", "bf16", "f64", "f8E4M3FN", "i1", "i4", "i8", "i32", "i64"]
DTYPE_CODE = {name: i for i, name in enumerate(DTYPES)}

# torch dtype of the *stored* elements (i4: packed bytes, i1: one byte each).
STORAGE = {
    "f32": torch.float32,
    "f16": torch.float16,
    "bf16": torch.bfloat16,
    "f64": torch.float64,
    "f8E4M3FN": torch.float8_e4m3fn,
    "i1": torch.uint8,
    "i4": torch.uint8,
    "i8": torch.int8,
    "i32": torch.int32,
    "i64": torch.int64,
}


class LoomError(RuntimeError):
    pass


class _TensorType(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int64), ("dims", ctypes.POINTER(ctypes.c_int64))]


def storage_shape(elem, shape):
    """The stored shape of a logical shape (i4 halves the innermost dim)."""
    shape = list(shape)
    if elem == "i4":
        if not shape or shape[-1] % 2:
            raise LoomError(f"i4 tensor of shape {shape}: innermost dim must be even")
        shape[-1] //= 2
    return shape


def pack_i4(values):
    """int64 values in [-8, 7], [..., K] -> uint8 [..., K/2], even index in the low nibble."""
    v = (values.to(torch.int64) & 0xF).to(torch.uint8)
    return v[..., 0::2] | (v[..., 1::2] << 4)


def unpack_i4(packed):
    """uint8 [..., K/2] -> int64 [..., K] in [-8, 7]."""
    p = packed.to(torch.int64)
    lo, hi = p & 0xF, (p >> 4) & 0xF
    out = torch.stack([lo, hi], dim=-1).reshape(*p.shape[:-1], p.shape[-1] * 2)
    return torch.where(out >= 8, out - 16, out)


def encode(elem, values):
    """Logical values (float64 / int64 / bool) -> a contiguous storage tensor."""
    if elem == "i4":
        return pack_i4(values).contiguous()
    if elem == "i1":
        return values.to(torch.bool).to(torch.uint8).contiguous()
    if elem == "f8E4M3FN" and values.dtype == torch.float64:
        values = values.to(torch.float32)  # exact for f8 values; f64 -> f8 is not converted everywhere
    return values.to(STORAGE[elem]).contiguous()


def decode(elem, stored):
    """Storage tensor -> logical values (float64 / int64 / bool)."""
    if elem == "i4":
        return unpack_i4(stored)
    if elem == "i1":
        return stored != 0
    if elem in ("i8", "i32", "i64"):
        return stored.to(torch.int64)
    return stored.to(torch.float64)


class Entry:
    def __init__(self, rt, module, handle):
        self.rt, self.module, self.handle = rt, module, handle
        lib = rt.lib
        self.name = lib.loomEntryName(handle).decode()
        self.signature = lib.loomEntrySignature(handle).decode()
        self.arg_types = [rt._type(lib.loomEntryArgType, handle, i) for i in range(lib.loomEntryNumArgs(handle))]
        self.result_types = [rt._type(lib.loomEntryResultType, handle, i)
                             for i in range(lib.loomEntryNumResults(handle))]

    def call(self, buffers):
        """Calls the entry on loom buffers; returns the result buffers (owned by the caller)."""
        lib = self.rt.lib
        n, r = len(buffers), len(self.result_types)
        args = (ctypes.c_void_p * max(n, 1))(*buffers)
        results = (ctypes.c_void_p * max(r, 1))()
        if lib.loomEntryCall(self.handle, args, n, results, r) != 0:
            raise LoomError(f"loomEntryCall({self.name}): {self.rt.last_error()}")
        return [results[i] for i in range(r)]


class Module:
    def __init__(self, rt, path, device):
        self.rt = rt
        self.path = path
        self.handle = rt.lib.loomModuleLoad(os.path.abspath(path).encode(), device)
        if not self.handle:
            raise LoomError(f"loomModuleLoad({path}): {rt.last_error()}")
        lib = rt.lib
        self.target = lib.loomModuleTarget(self.handle).decode()
        self.device = lib.loomModuleDevice(self.handle)
        self.entries = {}
        for i in range(lib.loomModuleNumEntries(self.handle)):
            e = Entry(rt, self, lib.loomModuleGetEntry(self.handle, i))
            self.entries[e.name] = e

    def unload(self):
        if self.handle:
            self.rt.lib.loomModuleUnload(self.handle)
            self.handle = None


class Runtime:
    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(os.path.abspath(path), mode=ctypes.RTLD_GLOBAL)
        P, I64, C = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        S = ctypes.c_char_p
        sig = {
            "loomGetLastError": (S, []),
            "loomDeviceInit": (C, [C]),
            "loomModuleLoad": (P, [S, C]),
            "loomModuleUnload": (None, [P]),
            "loomModuleTarget": (S, [P]),
            "loomModuleDevice": (C, [P]),
            "loomModuleNumEntries": (I64, [P]),
            "loomModuleGetEntry": (P, [P, I64]),
            "loomEntryName": (S, [P]),
            "loomEntrySignature": (S, [P]),
            "loomEntryNumArgs": (I64, [P]),
            "loomEntryNumResults": (I64, [P]),
            "loomEntryArgType": (C, [P, I64, ctypes.POINTER(_TensorType)]),
            "loomEntryResultType": (C, [P, I64, ctypes.POINTER(_TensorType)]),
            "loomBufferCreate": (P, [C, C, I64, ctypes.POINTER(I64)]),
            "loomBufferDestroy": (None, [P]),
            "loomBufferRank": (I64, [P]),
            "loomBufferShape": (ctypes.POINTER(I64), [P]),
            "loomBufferSizeInBytes": (ctypes.c_size_t, [P]),
            "loomBufferData": (P, [P]),
            "loomBufferCopyFromHost": (C, [P, P, ctypes.c_size_t]),
            "loomBufferCopyToHost": (C, [P, P, ctypes.c_size_t]),
            "loomEntryCall": (C, [P, ctypes.POINTER(P), I64, ctypes.POINTER(P), I64]),
            "loomSynchronize": (C, [C]),
        }
        for name, (res, argtypes) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, argtypes
        # loomBufferWrap(device, dtype, rank, shape, data): a buffer over
        # memory the caller owns (the runtime helper's addition).
        self.has_wrap = hasattr(lib, "loomBufferWrap")
        if self.has_wrap:
            lib.loomBufferWrap.restype = P
            lib.loomBufferWrap.argtypes = [C, C, I64, ctypes.POINTER(I64), P]

    def last_error(self):
        return (self.lib.loomGetLastError() or b"").decode(errors="replace")

    def device_init(self, device):
        if self.lib.loomDeviceInit(device) != 0:
            raise LoomError(f"loomDeviceInit: {self.last_error()}")

    def _type(self, fn, entry, i):
        t = _TensorType()
        if fn(entry, i, ctypes.byref(t)) != 0:
            raise LoomError(self.last_error())
        return (DTYPES[t.dtype], [None if t.dims[d] == LOOM_DYNAMIC else t.dims[d] for d in range(t.rank)])

    def load(self, path, device):
        return Module(self, path, device)

    # Buffers ----------------------------------------------------------------

    def buffer_from(self, device, elem, shape, stored):
        """A loom buffer holding `stored` (a contiguous storage tensor of
        logical `shape`). When the tensor lives on `device` and the runtime
        has loomBufferWrap, the buffer aliases the tensor's memory (keep the
        tensor alive while the buffer is used); otherwise it is a new buffer
        filled from host memory."""
        rank = len(shape)
        dims = (ctypes.c_int64 * max(rank, 1))(*shape)
        if stored.is_cuda and device != LOOM_DEVICE_CUDA:
            raise LoomError("a CUDA tensor for a CPU buffer")
        if stored.is_cuda and not self.has_wrap:
            raise LoomError("libloomrt has no loomBufferWrap")
        if self.has_wrap and stored.is_cuda == (device == LOOM_DEVICE_CUDA):
            if not stored.is_contiguous():
                raise LoomError("loomBufferWrap needs a contiguous tensor")
            buf = self.lib.loomBufferWrap(device, DTYPE_CODE[elem], rank, dims, stored.data_ptr() or None)
            if not buf:
                raise LoomError(f"loomBufferWrap: {self.last_error()}")
            return buf
        host = stored.cpu().contiguous()
        buf = self.lib.loomBufferCreate(device, DTYPE_CODE[elem], rank, dims)
        if not buf:
            raise LoomError(f"loomBufferCreate: {self.last_error()}")
        nbytes = host.numel() * host.element_size()
        if self.lib.loomBufferSizeInBytes(buf) != nbytes:
            self.destroy(buf)
            raise LoomError(f"buffer of {elem}{list(shape)}: runtime size {self.lib.loomBufferSizeInBytes(buf)} != {nbytes}")
        if self.lib.loomBufferCopyFromHost(buf, host.data_ptr(), nbytes) != 0:
            err = self.last_error()
            self.destroy(buf)
            raise LoomError(f"loomBufferCopyFromHost: {err}")
        return buf

    def shape(self, buf):
        rank = self.lib.loomBufferRank(buf)
        dims = self.lib.loomBufferShape(buf)
        return [dims[i] for i in range(rank)]

    def to_host(self, buf, elem):
        """Copies a buffer into a new CPU storage tensor of its stored shape."""
        shape = self.shape(buf)
        host = torch.empty(storage_shape(elem, shape), dtype=STORAGE[elem])
        nbytes = host.numel() * host.element_size()
        if self.lib.loomBufferSizeInBytes(buf) != nbytes:
            raise LoomError(f"result of {elem}{shape}: runtime size {self.lib.loomBufferSizeInBytes(buf)} != {nbytes}")
        if nbytes and self.lib.loomBufferCopyToHost(buf, host.data_ptr(), nbytes) != 0:
            raise LoomError(f"loomBufferCopyToHost: {self.last_error()}")
        return host

    def destroy(self, buf):
        self.lib.loomBufferDestroy(buf)
