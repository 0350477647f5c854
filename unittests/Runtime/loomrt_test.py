#!/usr/bin/env python3
"""libloomrt.so from Python with ctypes, as the GPU benchmark uses it.

usage: loomrt_test.py LIBLOOMRT FAKE_DRIVER CUDA_MODULE

Loads the runtime with RTLD_GLOBAL (so that GPU modules loaded afterwards
bind to its mgpu* functions), points it at the fake CUDA driver, wraps
"device" memory (the fake driver's device memory is host memory) with
loomBufferWrap, calls a CUDA module's entry and checks the result, then a
failing call, then a truncated and a corrupted copy of the module (refused,
naming the file). Exit status 0 when everything holds.
"""
import ctypes
import os
import sys
import tempfile


def main(argv):
    librt, fake, module_path = argv[1:4]
    os.environ["LOOM_CUDA_DRIVER"] = fake
    rt = ctypes.CDLL(librt, mode=ctypes.RTLD_GLOBAL)
    rt.loomGetLastError.restype = ctypes.c_char_p
    rt.loomModuleLoad.restype = ctypes.c_void_p
    rt.loomModuleLoad.argtypes = [ctypes.c_char_p, ctypes.c_int]
    rt.loomModuleLookupEntry.restype = ctypes.c_void_p
    rt.loomModuleLookupEntry.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    rt.loomBufferWrap.restype = ctypes.c_void_p
    rt.loomBufferWrap.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                                  ctypes.POINTER(ctypes.c_int64),
                                  ctypes.c_void_p]
    rt.loomEntryCall.argtypes = [ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.c_void_p),
                                 ctypes.c_int64,
                                 ctypes.POINTER(ctypes.c_void_p),
                                 ctypes.c_int64]
    rt.loomBufferCopyToHost.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_size_t]
    rt.loomBufferDestroy.argtypes = [ctypes.c_void_p]
    rt.loomModuleUnload.argtypes = [ctypes.c_void_p]
    rt.loomCudaGetStream.restype = ctypes.c_void_p
    cuda, f32 = 1, 0

    def check(ok, what):
        if not ok:
            err = rt.loomGetLastError().decode()
            sys.exit(f"loomrt_test.py: {what} failed: {err}")

    module = rt.loomModuleLoad(module_path.encode(), cuda)
    check(module, "loading the CUDA module")
    entry = rt.loomModuleLookupEntry(module, b"scale")
    check(entry, "looking up entry 'scale'")
    check(rt.loomCudaGetStream(), "the runtime's stream")

    n = 5
    x = (ctypes.c_float * n)(*[1.5 * i - 2 for i in range(n)])
    shape = (ctypes.c_int64 * 1)(n)
    arg = ctypes.c_void_p(rt.loomBufferWrap(cuda, f32, 1, shape,
                                            ctypes.addressof(x)))
    check(arg, "loomBufferWrap")
    result = ctypes.c_void_p()
    status = rt.loomEntryCall(entry, ctypes.byref(arg), 1,
                              ctypes.byref(result), 1)
    check(status == 0, "loomEntryCall")
    y = (ctypes.c_float * n)()
    check(rt.loomBufferCopyToHost(result, y, ctypes.sizeof(y)) == 0,
          "copying the result")
    want = [2 * v for v in x]
    if list(y) != want:
        sys.exit(f"loomrt_test.py: scale gave {list(y)}, expected {want}")
    rt.loomBufferDestroy(result)

    # A failing launch: LOOM_FAILURE with the kernel named, no result.
    fail_launch = ctypes.CDLL(fake).fakeCudaFailLaunch
    fail_launch(1)
    result = ctypes.c_void_p()
    status = rt.loomEntryCall(entry, ctypes.byref(arg), 1,
                              ctypes.byref(result), 1)
    err = rt.loomGetLastError().decode()
    expected = ("CUDA error in kernel scale_f32 (launch): "
                "CUDA_ERROR_INVALID_VALUE (invalid argument)")
    if status == 0 or err != expected or result.value:
        sys.exit(f"loomrt_test.py: a failing launch gave status {status}, "
                 f"error {err!r}, result {result.value}")
    fail_launch(0)

    # Sizes the module refuses (ABI 2 entry checks): its message, no result.
    entry8 = rt.loomModuleLookupEntry(module, b"scale8")
    check(entry8, "looking up entry 'scale8'")
    live = ctypes.CDLL(fake).fakeCudaLiveAllocations
    live_before = live()
    result = ctypes.c_void_p()
    status = rt.loomEntryCall(entry8, ctypes.byref(arg), 1,
                              ctypes.byref(result), 1)
    err = rt.loomGetLastError().decode()
    expected = "scale8: argument 0 dimension 0 must be 8"
    if status == 0 or err != expected or result.value or live() != live_before:
        sys.exit(f"loomrt_test.py: a refused size gave status {status}, "
                 f"error {err!r}, result {result.value}")
    rt.loomBufferDestroy(arg)
    rt.loomModuleUnload(module)

    # A truncated and a corrupted copy of the module (ABI 3 integrity
    # record): no module, one error naming the file, the process alive.
    data = open(module_path, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        for name, bad in (("truncated.so", data[:len(data) // 2]),
                          ("corrupted.so",
                           data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xff])
                           + data[len(data) // 2 + 1:])):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(bad)
            bad_module = rt.loomModuleLoad(path.encode(), cuda)
            err = (rt.loomGetLastError() or b"").decode()
            if bad_module or path not in err:
                sys.exit(f"loomrt_test.py: loading {name} gave module "
                         f"{bad_module}, error {err!r}")
    print("loomrt_test.py: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
