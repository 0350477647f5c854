"""ctypes binding of the parts of Loom's runtime C API that the package uses
(include/loom/Runtime/Runtime.h, DeviceAPI.h, CallContext.h).

libloomrt.so is loaded once, with RTLD_GLOBAL, so that GPU modules loaded
afterwards resolve the runtime's mgpu* and loomCuda* functions against it.
"""
import ctypes
import os
import shutil

LOOM_DEVICE_CPU = 0
LOOM_DEVICE_CUDA = 1
LOOM_DYNAMIC = -1

# loomDType, in the enum's order.
DTYPES = ["f32", "f16", "bf16", "f64", "f8E4M3FN", "i1", "i4", "i8", "i32", "i64"]

# Bytes per stored element (i4: packed two per byte, i1: one byte each).
STORAGE_BYTES = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8, "f8E4M3FN": 1,
                 "i1": 1, "i4": 1, "i8": 1, "i32": 4, "i64": 8}

_HERE = os.path.dirname(os.path.abspath(__file__))
# The repository's build tree, for a package used from (or installed in
# editable mode from) a checkout: <repo>/python/loom -> <repo>/build.
_REPO_BUILD = os.path.normpath(os.path.join(_HERE, "..", "..", "build"))


class _TensorType(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("rank", ctypes.c_int64),
                ("dims", ctypes.POINTER(ctypes.c_int64))]


ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p)
FREE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class CallContext(ctypes.Structure):
    """loomCallContext (include/loom/Runtime/CallContext.h)."""
    _fields_ = [("size", ctypes.c_uint64), ("stream", ctypes.c_void_p),
                ("alloc", ALLOC_FN), ("free", FREE_FN), ("user", ctypes.c_void_p)]


# loom_shape_<name>(void **args, int64_t nargs, int64_t *dims) and
# loom_call_<name>(void **args, int64_t nargs, const loomCallContext *).
SHAPE_FN = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)
CALL_FN = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)


def find_compiler():
    """loom-compile: $LOOM_COMPILE, the checkout's build/bin, then PATH."""
    candidates = [os.environ.get("LOOM_COMPILE"),
                  os.path.join(_REPO_BUILD, "bin", "loom-compile"),
                  shutil.which("loom-compile")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError(
        "loom-compile not found: set LOOM_COMPILE, build the repository "
        "(scripts/setup.sh builds into build/), or put an installed Loom's "
        "bin/ on PATH")


def find_runtime():
    """libloomrt.so: $LOOM_RUNTIME, the checkout's build/lib, then beside
    an installed loom-compile (<prefix>/lib)."""
    candidates = [os.environ.get("LOOM_RUNTIME"),
                  os.path.join(_REPO_BUILD, "lib", "libloomrt.so")]
    tool = shutil.which("loom-compile")
    if tool:
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(tool)))
        candidates += [os.path.join(prefix, "lib", "libloomrt.so")]
    for c in candidates:
        if c and os.path.isfile(c):
            return c
    raise FileNotFoundError(
        "libloomrt.so not found: set LOOM_RUNTIME, build the repository "
        "(scripts/setup.sh builds into build/), or install Loom "
        "(cmake --install) and put its bin/ on PATH")


_lib = None


def lib():
    """The runtime library, loaded on first use."""
    global _lib
    if _lib is not None:
        return _lib
    path = find_runtime()
    l = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    c_int64, c_char_p, c_void_p = ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p
    sigs = {
        "loomGetLastError": (c_char_p, []),
        "loomModuleLoad": (c_void_p, [c_char_p, ctypes.c_int]),
        "loomModuleUnload": (None, [c_void_p]),
        "loomModuleSignature": (c_char_p, [c_void_p]),
        "loomModuleTarget": (c_char_p, [c_void_p]),
        "loomModuleNumEntries": (c_int64, [c_void_p]),
        "loomModuleGetEntry": (c_void_p, [c_void_p, c_int64]),
        "loomEntryName": (c_char_p, [c_void_p]),
        "loomEntryNumArgs": (c_int64, [c_void_p]),
        "loomEntryNumResults": (c_int64, [c_void_p]),
        "loomEntryArgType": (ctypes.c_int, [c_void_p, c_int64, ctypes.POINTER(_TensorType)]),
        "loomEntryResultType": (ctypes.c_int, [c_void_p, c_int64, ctypes.POINTER(_TensorType)]),
        "loomEntrySignature": (c_char_p, [c_void_p]),
        "loomEntryShapeFunction": (c_void_p, [c_void_p]),
        "loomEntryCallFunction": (c_void_p, [c_void_p]),
        "loomCudaStreamSynchronize": (c_char_p, [c_void_p]),
        "loomCudaLastKernel": (c_char_p, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(l, name)
        fn.restype = res
        fn.argtypes = args
    _lib = l
    return l


def last_error():
    return lib().loomGetLastError().decode()


def entry_types(entry, count_fn, type_fn):
    l = lib()
    types = []
    for i in range(count_fn(entry)):
        t = _TensorType()
        if type_fn(entry, i, ctypes.byref(t)) != 0:
            raise RuntimeError(last_error())
        types.append((DTYPES[t.dtype], tuple(t.dims[d] for d in range(t.rank))))
    return types
