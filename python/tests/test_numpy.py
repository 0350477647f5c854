"""The package on numpy arrays: calls, results, and every error path."""
import os
import subprocess

import numpy as np
import pytest

import loom

rng = np.random.default_rng(5)


def rms_norm(x, g, eps=1e-6):
    x = x.astype(np.float64)
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g


def silu(x):
    return x / (1 + np.exp(-x))


def test_module_lists_its_entries(blocks):
    assert set(blocks.entries) == {"block", "norm_linear", "negate_i4", "double_bf16"}
    assert blocks.target == "cpu"
    assert blocks.signature.startswith("abi 4\ntarget cpu\n")
    assert blocks.block.signature == "block(tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>)"
    assert blocks["norm_linear"] is blocks.norm_linear


def test_static_block(blocks):
    x = rng.standard_normal((4, 8), dtype=np.float32)
    g = rng.standard_normal(8, dtype=np.float32)
    y = blocks.block(x, g)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (4, 8)
    np.testing.assert_allclose(y, silu(rms_norm(x, g)) + x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("m,k,n", [(3, 5, 7), (1, 13, 2), (0, 4, 3)])
def test_dynamic_sizes(blocks, m, k, n):
    x = rng.standard_normal((m, k), dtype=np.float32)
    g = rng.standard_normal(k, dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)
    assert blocks.norm_linear.result_shapes(x, g, w) == [(m, n)]
    y = blocks.norm_linear(x, g, w)
    assert y.shape == (m, n)
    np.testing.assert_allclose(y, rms_norm(x, g) @ w.T.astype(np.float64), rtol=1e-4, atol=1e-4)


def test_i4_two_results(blocks):
    logical = np.array([[1, -2, 7, -8], [0, 3, -1, 5]], dtype=np.int8)
    packed = loom.pack_i4(logical)
    assert packed.dtype == np.uint8 and packed.shape == (2, 2)
    negated, widened = blocks.negate_i4(packed)
    assert negated.dtype == np.uint8 and negated.shape == (2, 2)
    # -(-8) wraps to -8 in i4.
    np.testing.assert_array_equal(loom.unpack_i4(negated), [[-1, 2, -7, -8], [0, -3, 1, -5]])
    np.testing.assert_array_equal(widened, logical)


def test_bf16_bits(blocks):
    # Without ml_dtypes, bf16 travels as its uint16 bit patterns.
    try:
        import ml_dtypes  # noqa: F401
        pytest.skip("ml_dtypes is installed: bf16 is its dtype")
    except ImportError:
        pass
    f = np.array([[1.5, -2.0, 0.25, 3.0, 0, 1, 2, 4]] * 3, dtype=np.float32)
    bits = (f.view(np.uint32) >> 16).astype(np.uint16)
    y = blocks.double_bf16(bits)
    back = (y.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(back, 2 * f)


def test_inputs_are_not_written(blocks):
    x = rng.standard_normal((4, 8), dtype=np.float32)
    g = rng.standard_normal(8, dtype=np.float32)
    x0, g0 = x.copy(), g.copy()
    blocks.block(x, g)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)


# -- errors -------------------------------------------------------------------

def test_wrong_count_is_a_type_error(blocks):
    x = np.zeros((4, 8), np.float32)
    with pytest.raises(TypeError, match=r"block\(\) takes 2 argument\(s\) .* got 1"):
        blocks.block(x)


def test_wrong_dtype_is_a_type_error(blocks):
    with pytest.raises(TypeError, match="argument 1 of block .* has dtype float64, expected float32"):
        blocks.block(np.zeros((4, 8), np.float32), np.zeros(8))


def test_not_an_array_is_a_type_error(blocks):
    with pytest.raises(TypeError, match="argument 0 of block .* is a list; entries take numpy arrays or torch tensors"):
        blocks.block([[0.0] * 8] * 4, np.zeros(8, np.float32))


def test_wrong_rank_is_a_value_error(blocks):
    with pytest.raises(ValueError, match=r"argument 1 of block \(tensor<8xf32>\) has rank 2"):
        blocks.block(np.zeros((4, 8), np.float32), np.zeros((1, 8), np.float32))


def test_wrong_static_size_is_a_value_error(blocks):
    with pytest.raises(ValueError, match=r"argument 0 of block .* has shape \(4, 9\): dimension 1 must be 8"):
        blocks.block(np.zeros((4, 9), np.float32), np.zeros(8, np.float32))
    with pytest.raises(ValueError, match=r"dimension 1 must be 2 \(packed i4 bytes\)"):
        blocks.negate_i4(np.zeros((2, 4), np.uint8))


def test_non_contiguous_is_a_value_error(blocks):
    x = np.zeros((8, 4), np.float32).T
    with pytest.raises(ValueError, match="argument 0 of block .* is not contiguous"):
        blocks.block(x, np.zeros(8, np.float32))


def test_module_size_check_is_a_value_error(blocks):
    # The relation between dynamic sizes is the module's own check.
    x = np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"norm_linear: argument 1 dimension 0 \(\?\) must equal argument 0 dimension 1"):
        blocks.norm_linear(x, np.zeros(4, np.float32), np.zeros((7, 5), np.float32))
    with pytest.raises(ValueError, match="norm_linear: argument 2 dimension 1"):
        blocks.norm_linear(x, np.zeros(5, np.float32), np.zeros((7, 4), np.float32))


def test_unknown_entry(blocks):
    with pytest.raises(AttributeError, match="has no entry 'nope' \\(entries: block, norm_linear"):
        blocks.nope
    with pytest.raises(KeyError, match="has no entry 'nope'"):
        blocks["nope"]


def test_compile_errors(tmp_path):
    with pytest.raises(loom.CompileError, match="error"):
        loom.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %y : tensor<4xf32> }")
    with pytest.raises(FileNotFoundError, match="no such MLIR file"):
        loom.compile(str(tmp_path / "missing.mlir"))
    with pytest.raises(ValueError, match="target must be 'cpu' or a CUDA architecture"):
        loom.compile("func.func @f() { return }", target="gpu")
    with pytest.raises(TypeError, match="tiles must be a string"):
        loom.compile("func.func @f() { return }", tiles=5)
    with pytest.raises(TypeError, match="compile\\(\\) takes MLIR text or a path"):
        loom.compile(42)


def test_compile_text_and_tiles(tmp_path):
    text = ("func.func @twice(%x: tensor<3xf32>) -> tensor<3xf32> {\n"
            "  %y = arith.addf %x, %x : tensor<3xf32>\n  return %y : tensor<3xf32>\n}\n")
    m = loom.compile(text, fusion=False, output=str(tmp_path / "twice.so"))
    np.testing.assert_array_equal(m.twice(np.array([1, 2, 3], np.float32)), [2, 4, 6])
    # loom.load of what loom-compile made.
    again = loom.load(str(tmp_path / "twice.so"))
    np.testing.assert_array_equal(again.twice(np.array([0.5, 1, 2], np.float32)), [1, 2, 4])


def test_compile_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_CACHE_DIR", str(tmp_path / "cache"))
    text = ("func.func @inc(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
            "  %y = arith.addf %x, %x : tensor<2xf32>\n  return %y : tensor<2xf32>\n}\n")
    loom.compile(text)
    kept = list((tmp_path / "cache").glob("*.so"))
    assert len(kept) == 1 and loom.cache_dir() == str(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.tmp"))

    # With loom-compile unable to run, the same block comes from the cache
    # (also into an output file); another source, another option,
    # cache=False or LOOM_CACHE=0 need the compiler.
    def no_compiler(*args, **kwargs):
        raise AssertionError("loom-compile ran")
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", no_compiler)
    np.testing.assert_array_equal(loom.compile(text).inc(np.array([1, 2], np.float32)), [2, 4])
    copy = loom.compile(text, output=str(tmp_path / "copy.so"))
    np.testing.assert_array_equal(copy.inc(np.array([3, 4], np.float32)), [6, 8])
    for kwargs in ({"cache": False}, {"fusion": False}, {"tiles": "attention=64x64"}):
        with pytest.raises(AssertionError, match="loom-compile ran"):
            loom.compile(text, **kwargs)
    with pytest.raises(AssertionError, match="loom-compile ran"):
        loom.compile(text.replace("addf", "mulf"))
    monkeypatch.setenv("LOOM_CACHE", "0")
    with pytest.raises(AssertionError, match="loom-compile ran"):
        loom.compile(text)
    monkeypatch.delenv("LOOM_CACHE")

    # A kept module that no longer loads is compiled again and replaced.
    # (Replaced by renaming, as the cache itself writes: the module loaded
    # above maps the old file, whose pages must not change under it.)
    monkeypatch.setattr(subprocess, "run", real_run)
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"not a library")
    os.replace(bad, kept[0])
    again = loom.compile(text)
    np.testing.assert_array_equal(again.inc(np.array([5, 6], np.float32)), [10, 12])
    assert kept[0].read_bytes()[:4] == b"\x7fELF"


def test_compile_cache_key(tmp_path):
    # The key covers the source, every option and loom-compile's file: a
    # rebuilt compiler (another size or time) is another key.
    tool = tmp_path / "loom-compile"
    tool.write_bytes(b"one")
    key = loom._cache_key(str(tool), b"src", "cpu", "", True, None)
    assert key == loom._cache_key(str(tool), b"src", "cpu", "", True, None)
    others = {loom._cache_key(str(tool), b"src2", "cpu", "", True, None),
              loom._cache_key(str(tool), b"src", "sm_90a", "", True, None),
              loom._cache_key(str(tool), b"src", "cpu", "gemm=64x64", True, None),
              loom._cache_key(str(tool), b"src", "cpu", "", False, None)}
    tool.write_bytes(b"two, rebuilt")
    others.add(loom._cache_key(str(tool), b"src", "cpu", "", True, None))
    assert key not in others and len(others) == 5


def test_load_errors(tmp_path):
    bogus = tmp_path / "bogus.so"
    bogus.write_bytes(b"not a library")
    with pytest.raises(loom.LoomError, match="cannot load module .*bogus.so.*not an ELF shared library"):
        loom.load(str(bogus))
    with pytest.raises(loom.LoomError, match="cannot open module"):
        loom.load(str(tmp_path / "missing.so"))


def test_old_abi_module_is_refused():
    # A module of ABI 3 (hand-written by the runtime's tests) has no
    # destination-passing entries.
    directory = os.environ.get("LOOM_TEST_MODULE_DIR")
    path = directory and os.path.join(directory, "test_module_good.so")
    if not path or not os.path.exists(path):
        pytest.skip("the runtime's test modules are not built here")
    with pytest.raises(loom.LoomError, match=r"older than ABI 4\): recompile it"):
        loom.load(path)


def test_gpu_module_without_gpu_is_refused(tmp_path):
    # Compiling for sm_90a needs only ptxas; loading it needs a driver.
    try:
        m = loom.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }",
                         target="sm_90a", output=str(tmp_path / "f.so"))
    except loom.CompileError as e:
        assert "CUDA toolkit" in str(e) or "ptxas" in str(e)
        return
    except loom.LoomError as e:  # no driver or no GPU here
        assert "CUDA" in str(e)
        return
    with pytest.raises(ValueError, match="numpy array .* runs on cuda"):
        m.f(np.zeros(4, np.float32))


def test_repeated_calls_fast_path(blocks):
    # Repeated calls take a fast path; anything it does not accept takes the
    # general one, with the same errors.
    f = blocks.norm_linear
    g, w = rng.standard_normal(6, dtype=np.float32), rng.standard_normal((3, 6), dtype=np.float32)

    def check(x, gg=g, ww=w):
        np.testing.assert_allclose(f(x, gg, ww), rms_norm(x, gg) @ ww.T.astype(np.float64),
                                   rtol=1e-4, atol=1e-4)

    for m in (5, 5, 2, 0, 5):
        check(rng.standard_normal((m, 6), dtype=np.float32))
    big = rng.standard_normal((9, 6), dtype=np.float32)
    check(big[2:7])                       # a view: its start is passed
    ro = rng.standard_normal((5, 6), dtype=np.float32)
    ro.setflags(write=False)              # read-only memory is fine
    check(ro)
    y1, y2 = f(ro, g, w), f(ro, g, w)
    assert y1.ctypes.data != y2.ctypes.data  # a fresh result every call
    x = rng.standard_normal((5, 6), dtype=np.float32)
    with pytest.raises(TypeError, match="argument 0 of norm_linear .* has dtype float64, expected float32"):
        f(x.astype(np.float64), g, w)
    with pytest.raises(ValueError, match="argument 0 of norm_linear .* is not contiguous"):
        f(rng.standard_normal((5, 12), dtype=np.float32)[:, :6], g, w)
    with pytest.raises(ValueError, match=r"argument 1 of norm_linear .* has rank 2"):
        f(x, g[None], w)
    with pytest.raises(ValueError, match="norm_linear: argument 1 dimension 0"):
        f(x, g[:4].copy(), w)
    with pytest.raises(TypeError, match="argument 1 of norm_linear .* is a list"):
        f(x, list(g), w)
    with pytest.raises(TypeError, match=r"norm_linear\(\) takes 3 argument\(s\)"):
        f(x, g)
    check(x)
    # Static sizes and two results.
    xb, gb = rng.standard_normal((4, 8), dtype=np.float32), rng.standard_normal(8, dtype=np.float32)
    first = blocks.block(xb, gb)
    for _ in range(3):
        np.testing.assert_array_equal(blocks.block(xb.copy(), gb.copy()), first)
    with pytest.raises(ValueError, match=r"has shape \(4, 9\): dimension 1 must be 8"):
        blocks.block(np.zeros((4, 9), np.float32), gb)
    packed = loom.pack_i4(np.array([[1, -2, 7, -8], [0, 3, -1, 5]], dtype=np.int8))
    for _ in range(3):
        negated, widened = blocks.negate_i4(packed)
        np.testing.assert_array_equal(loom.unpack_i4(negated), [[-1, 2, -7, -8], [0, -3, 1, -5]])
