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
