"""The package on torch CPU tensors, and Loom entries as torch custom ops
inside torch.compile (fullgraph=True: no graph break). Skipped only where
torch is not installed; scripts/test.sh installs it."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import loom  # noqa: E402
import loom.torch  # noqa: E402


def rms_norm(x, g, eps=1e-6):
    x = x.double()
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * g.double()


def test_torch_in_torch_out(blocks):
    x, g = torch.randn(4, 8), torch.randn(8)
    y = blocks.block(x, g)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.device.type == "cpu"
    ref = rms_norm(x, g)
    torch.testing.assert_close(y.double(), torch.nn.functional.silu(ref) + x.double(), rtol=1e-5, atol=1e-5)


def test_torch_dynamic_and_zero_copy(blocks):
    x, g, w = torch.randn(5, 6), torch.randn(6), torch.randn(3, 6)
    y = blocks.norm_linear(x, g, w)
    assert y.shape == (5, 3)
    torch.testing.assert_close(y.double(), rms_norm(x, g) @ w.double().T, rtol=1e-4, atol=1e-4)
    # Zero-copy: a view that is contiguous is read in place (its offset
    # included).
    big = torch.randn(10, 6)
    view = big[2:7]
    assert view.is_contiguous() and view.data_ptr() != big.data_ptr()
    torch.testing.assert_close(blocks.norm_linear(view, g, w), blocks.norm_linear(view.clone(), g, w))


def test_torch_bf16_and_i4(blocks):
    x = torch.randn(3, 8).to(torch.bfloat16)
    torch.testing.assert_close(blocks.double_bf16(x), x + x)
    logical = torch.tensor([[1, -2, 7, -8], [0, 3, -1, 5]], dtype=torch.int8)
    negated, widened = blocks.negate_i4(loom.pack_i4(logical))
    assert negated.dtype == torch.uint8
    torch.testing.assert_close(loom.unpack_i4(negated),
                               torch.tensor([[-1, 2, -7, -8], [0, -3, 1, -5]], dtype=torch.int8))
    torch.testing.assert_close(widened, logical)


def test_torch_errors(blocks):
    x, g = torch.randn(4, 8), torch.randn(8)
    with pytest.raises(TypeError, match="has dtype torch.float64, expected torch.float32"):
        blocks.block(x.double(), g)
    with pytest.raises(TypeError, match="is a numpy array, but earlier arguments are torch tensors"):
        blocks.block(x, g.numpy())
    with pytest.raises(TypeError, match="is a torch tensor, but earlier arguments are numpy arrays"):
        blocks.block(x.numpy(), g)
    with pytest.raises(ValueError, match="is not contiguous"):
        blocks.block(torch.randn(8, 4).t(), g)
    with pytest.raises(ValueError, match=r"has shape \(4, 7\): dimension 1 must be 8"):
        blocks.block(torch.randn(4, 7), g)
    with pytest.raises(ValueError, match=r"is on meta; the module \(cpu\) runs on cpu"):
        blocks.block(torch.empty(4, 8, device="meta"), g)
    with pytest.raises(ValueError, match="norm_linear: argument 1 dimension 0"):
        blocks.norm_linear(torch.randn(2, 5), torch.randn(4), torch.randn(3, 5))


def test_custom_op_eager_and_fake(blocks):
    op = loom.torch.register(blocks, "loomtest::norm_linear", entry="norm_linear")
    x, g, w = torch.randn(5, 6), torch.randn(6), torch.randn(3, 6)
    torch.testing.assert_close(op(x, g, w), blocks.norm_linear(x, g, w))
    assert torch.ops.loomtest.norm_linear is op
    # The fake implementation: shapes from the module, no data.
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode() as mode:
        fx, fg, fw = (mode.from_tensor(t) for t in (x, g, w))
        out = op(fx, fg, fw)
        assert out.shape == (5, 3) and out.dtype == torch.float32
        with pytest.raises(ValueError, match="norm_linear: argument 1 dimension 0"):
            op(fx, mode.from_tensor(torch.randn(4)), fw)
        with pytest.raises(TypeError, match="has dtype torch.float64"):
            op(fx.double(), fg, fw)
    # torch.library's own check of the fake implementation against the real one.
    torch.library.opcheck(op, (x, g, w), test_utils=("test_schema", "test_faketensor"))


def test_custom_op_in_torch_compile_fullgraph(blocks):
    op = loom.torch.register(blocks, "loomtest::block", entry="block")

    def model(x, g):
        h = x * 0.5
        return op(h, g) + 1.0

    compiled = torch.compile(model, fullgraph=True)
    x, g = torch.randn(4, 8), torch.randn(8)
    torch.testing.assert_close(compiled(x, g), model(x, g))
    # The compiled graph holds the op, not a break around it.
    from torch._dynamo.testing import CompileCounterWithBackend
    counter = CompileCounterWithBackend("aot_eager")
    torch._dynamo.reset()
    again = torch.compile(model, fullgraph=True, backend=counter)
    torch.testing.assert_close(again(x, g), model(x, g))
    assert counter.frame_count == 1
    assert any("loomtest.block" in str(n.target) for gm in counter.graphs for n in gm.graph.nodes)


def test_custom_op_dynamic_sizes_in_torch_compile(blocks):
    op = loom.torch.register(blocks, "loomtest::norm_linear_dyn", entry="norm_linear")

    def model(x, g, w):
        return torch.relu(op(x, g, w))

    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    for m in (5, 9):
        x, g, w = torch.randn(m, 6), torch.randn(6), torch.randn(3, 6)
        torch.testing.assert_close(compiled(x, g, w), model(x, g, w))


def test_register_errors(blocks):
    with pytest.raises(ValueError, match="has 4 entries .*: name one with entry="):
        loom.torch.register(blocks, "loomtest::any")
    with pytest.raises(ValueError, match="qualname must be 'namespace::name'"):
        loom.torch.register(blocks.block, "nonamespace")
    with pytest.raises(TypeError, match="takes a loom Module or Entry"):
        loom.torch.register("block", "loomtest::x")
    with pytest.raises(KeyError, match="has no entry 'nope'"):
        loom.torch.register(blocks, "loomtest::x", entry="nope")


def test_repeated_calls_alternating_shapes_and_errors(blocks):
    # The repeated-call path reuses descriptors and result shapes: shapes
    # that change, a refused call in between and new tensors each time must
    # all give what a first call gives.
    g, w = torch.randn(6), torch.randn(3, 6)
    for m in (5, 2, 5, 0, 2):
        x = torch.randn(m, 6)
        y = blocks.norm_linear(x, g, w)
        torch.testing.assert_close(y.double(), rms_norm(x, g) @ w.double().T, rtol=1e-4, atol=1e-4)
        if m > 0:  # with no rows the body relies on no relation (docs/abi.md)
            with pytest.raises(ValueError, match="norm_linear: argument 2 dimension 1"):
                blocks.norm_linear(x, g, torch.randn(3, 5))
        with pytest.raises(TypeError, match="has dtype torch.float16"):
            blocks.norm_linear(x, g, w.half())
    x, gg = torch.randn(4, 8), torch.randn(8)
    first = blocks.block(x, gg)
    for _ in range(3):
        torch.testing.assert_close(blocks.block(x.clone(), gg.clone()), first)
    torch.testing.assert_close(blocks.block(torch.zeros(4, 8), gg), torch.zeros(4, 8))


# -- repeated calls: the fast paths --------------------------------------------
# A call like an earlier one takes a fast path (torch's tensor guard and
# low-overhead allocation where this torch has them, "internals", else the
# tensors' attributes read in Python, "plain"); anything it does not accept
# falls to the general path. Both must give what a first call gives, and the
# same errors.

@pytest.fixture(params=["internals", "plain"])
def fresh(request, blocks, monkeypatch):
    """The test blocks loaded anew (no armed fast path) with torch's
    internals used or not."""
    helpers = loom._TorchHelpers(torch, enabled=request.param == "internals")
    if request.param == "internals" and helpers.guard is None:
        pytest.skip(f"torch {torch.__version__} has no usable TensorGuards")
    monkeypatch.setattr(loom, "_torch_helpers_made", helpers)
    module = loom.load(blocks.path)
    module.mode = request.param
    return module


def armed(entry):
    b = entry._local.b
    return "internals" if b.guard is not None else "plain" if b.fast == entry._fast_torch else None


def block_ref(x, g):
    return torch.nn.functional.silu(rms_norm(x, g)) + x.double()


def test_fast_path_static_entry(fresh):
    f = fresh.block
    x, g = torch.randn(4, 8), torch.randn(8)
    y = f(x, g)
    assert armed(f) == fresh.mode
    for _ in range(3):
        y2 = f(x, g)
        assert y2.data_ptr() != y.data_ptr()  # a fresh result every call
        torch.testing.assert_close(y2, y)
    assert armed(f) == fresh.mode
    # New tensors, a view with an offset, requires_grad, a Parameter,
    # inference mode: the right data is read.
    big = torch.randn(6, 8)
    for xx, gg in [(torch.randn(4, 8), torch.randn(8)), (big[1:5], g),
                   (x.clone().requires_grad_(), g), (x, torch.nn.Parameter(g.clone()))]:
        out = f(xx, gg)
        assert not out.requires_grad and out.shape == (4, 8)
        torch.testing.assert_close(out.double(), block_ref(xx.detach(), gg.detach()),
                                   rtol=1e-5, atol=1e-5)
    with torch.inference_mode():
        xi, gi = torch.randn(4, 8), torch.randn(8)
        for _ in range(2):
            torch.testing.assert_close(f(xi, gi).double(), block_ref(xi, gi), rtol=1e-5, atol=1e-5)


def test_fast_path_errors_are_the_general_ones(fresh):
    f = fresh.block
    x, g = torch.randn(4, 8), torch.randn(8)
    want = f(x, g)
    bad = [
        ((x.double(), g), TypeError, r"argument 0 of block \(tensor<4x8xf32>\) has dtype torch.float64, expected torch.float32"),
        ((x, g.half()), TypeError, "argument 1 of block .* has dtype torch.float16"),
        ((torch.randn(8, 4).t(), g), ValueError, "argument 0 of block .* is not contiguous"),
        ((torch.randn(4, 16)[:, ::2], g), ValueError, "argument 0 of block .* is not contiguous"),
        ((torch.randn(4, 7), g), ValueError, r"has shape \(4, 7\): dimension 1 must be 8"),
        ((x, g[None]), ValueError, r"argument 1 of block \(tensor<8xf32>\) has rank 2"),
        ((torch.empty(4, 8, device="meta"), g), ValueError, r"is on meta; the module \(cpu\) runs on cpu"),
        ((x, torch.empty(8, device="meta")), ValueError, r"argument 1 .* is on meta"),
        ((x, g.numpy()), TypeError, "is a numpy array, but earlier arguments are torch tensors"),
        ((x, [0.0] * 8), TypeError, "argument 1 of block .* is a list; entries take numpy arrays or torch tensors"),
        ((x,), TypeError, r"block\(\) takes 2 argument\(s\) .* got 1"),
        ((x, g, g), TypeError, r"block\(\) takes 2 argument\(s\) .* got 3"),
    ]
    for args, error, message in bad:
        with pytest.raises(error, match=message):
            f(*args)
        torch.testing.assert_close(f(x, g), want)  # and the next call is right
        assert armed(f) == fresh.mode


def test_fast_path_dynamic_sizes(fresh):
    f = fresh.norm_linear
    g, w = torch.randn(6), torch.randn(3, 6)

    def ref(x, g, w):
        return rms_norm(x, g) @ w.double().T

    for m in (5, 5, 2, 9, 0, 9):
        x = torch.randn(m, 6)
        y = f(x, g, w)
        assert y.shape == (m, 3)
        torch.testing.assert_close(y.double(), ref(x, g, w), rtol=1e-4, atol=1e-4)
    assert armed(f) == fresh.mode
    # Every size changing, then back.
    for m, k, n in [(4, 7, 2), (3, 6, 3), (4, 7, 2)]:
        x, gg, ww = torch.randn(m, k), torch.randn(k), torch.randn(n, k)
        torch.testing.assert_close(f(x, gg, ww).double(), ref(x, gg, ww), rtol=1e-4, atol=1e-4)
    x = torch.randn(5, 6)
    f(x, g, w)
    # Rows of the right length but not adjacent: the guard checks only the
    # innermost stride of a dynamic shape, the call its contiguity.
    with pytest.raises(ValueError, match="argument 0 of norm_linear .* is not contiguous"):
        f(torch.randn(5, 12)[:, :6], g, w)
    with pytest.raises(ValueError, match="argument 2 of norm_linear .* is not contiguous"):
        f(x, g, torch.randn(6, 3).t())
    # The module's size checks, with and without a cached shape.
    with pytest.raises(ValueError, match="norm_linear: argument 1 dimension 0"):
        f(x, torch.randn(4), w)
    with pytest.raises(ValueError, match="norm_linear: argument 2 dimension 1"):
        f(x, g, torch.randn(3, 5))
    with pytest.raises(ValueError, match="norm_linear: argument 2 dimension 1"):
        f(x, g, torch.randn(3, 5))
    torch.testing.assert_close(f(x, g, w).double(), ref(x, g, w), rtol=1e-4, atol=1e-4)
    # Shape queries in between write the same descriptors.
    assert f.result_shapes(torch.randn(2, 6), g, w) == [(2, 3)]
    torch.testing.assert_close(f(x, g, w).double(), ref(x, g, w), rtol=1e-4, atol=1e-4)
    assert f.shapes_for_sizes([(7, 4), (4,), (2, 4)]) == [(7, 2)]
    torch.testing.assert_close(f(x, g, w).double(), ref(x, g, w), rtol=1e-4, atol=1e-4)
    assert armed(f) == fresh.mode


def test_fast_path_two_results_and_bf16(fresh):
    logical = torch.tensor([[1, -2, 7, -8], [0, 3, -1, 5]], dtype=torch.int8)
    packed = loom.pack_i4(logical)
    for _ in range(3):
        negated, widened = fresh.negate_i4(packed)
        torch.testing.assert_close(loom.unpack_i4(negated), -logical.to(torch.int16).where(
            logical != -8, torch.tensor(8, dtype=torch.int16)).to(torch.int8))
        torch.testing.assert_close(widened, logical)
    with pytest.raises(ValueError, match=r"dimension 1 must be 2 \(packed i4 bytes\)"):
        fresh.negate_i4(torch.zeros(2, 4, dtype=torch.uint8))
    for m in (3, 3, 1):
        x = torch.randn(m, 8).to(torch.bfloat16)
        torch.testing.assert_close(fresh.double_bf16(x), x + x)


def test_fast_path_threads(fresh):
    import threading
    f = fresh.norm_linear
    errors = []

    def work(seed):
        try:
            gen = torch.Generator().manual_seed(seed)
            g, w = torch.randn(6, generator=gen), torch.randn(3, 6, generator=gen)
            for i in range(40):
                x = torch.randn(1 + (seed + i) % 4, 6, generator=gen)
                y = f(x, g, w)
                torch.testing.assert_close(y.double(), rms_norm(x, g) @ w.double().T,
                                           rtol=1e-4, atol=1e-4)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_torch_internals_can_be_turned_off(blocks, monkeypatch):
    monkeypatch.setenv("LOOM_TORCH_INTERNALS", "0")
    monkeypatch.setattr(loom, "_torch_helpers_made", None)
    h = loom._torch_helpers(torch)
    assert h.guard is None and h.empty_cpu is None
    module = loom.load(blocks.path)
    x, g = torch.randn(4, 8), torch.randn(8)
    torch.testing.assert_close(module.block(x, g), blocks.block(x, g))
    assert armed(module.block) == "plain"


def test_calls_under_torch_modes(blocks, monkeypatch):
    from torch.utils._python_dispatch import TorchDispatchMode

    class Log(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func))
            return func(*args, **(kwargs or {}))

    x, g = torch.randn(4, 8), torch.randn(8)
    want = blocks.block(x, g)
    # A function mode at the first call (factories default to meta in it):
    # the call and the fast path's set-up are unaffected.
    monkeypatch.setattr(loom, "_torch_helpers_made", None)
    module = loom.load(blocks.path)
    with torch.device("meta"):
        got = [module.block(x, g) for _ in range(3)]
    assert loom._torch_helpers_made is not None
    # A dispatch mode at the first call: it sees each result's allocation,
    # as before, and nothing is set up for later calls until it ends.
    monkeypatch.setattr(loom, "_torch_helpers_made", None)
    module = loom.load(blocks.path)
    log = Log()
    with log:
        got += [module.block(x, g) for _ in range(3)]
    assert loom._torch_helpers_made is None and armed(module.block) is None
    assert sum("empty" in op for op in log.ops) == 3, log.ops
    got += [module.block(x, g) for _ in range(2)]
    assert loom._torch_helpers_made is not None and armed(module.block) is not None
    log = Log()
    with log:  # and once set up
        got += [module.block(x, g) for _ in range(3)]
    assert sum("empty" in op for op in log.ops) == 3, log.ops
    for y in got:
        assert y.device.type == "cpu"
        torch.testing.assert_close(y, want)
