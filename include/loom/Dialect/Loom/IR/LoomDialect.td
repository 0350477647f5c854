//===- LoomDialect.td - the loom dialect definition ------------*- tablegen -*-===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD
#define LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD

include "mlir/IR/OpBase.td"

def Loom_Dialect : Dialect {
  let name = "loom";
  let cppNamespace = "::loom";
  let summary = "Ops of efficient transformer blocks: token mixers, quantized linear layers, norms, RoPE, activations.";
  let description = [{
    The `loom` dialect represents the pieces of a transformer block at graph
    level, with value semantics on ranked tensors: token mixers (softmax,
    block-sparse and linear attention, pooling, depthwise and long
    convolutions), dense and quantized linear layers (W8A16, W4A16, W8A8, FP8)
    and the pieces around them (RMSNorm, LayerNorm, RoPE, GELU, SiLU).

    Every op is written in one syntax,
    `loom.NAME operands attr-dict : functional-type(operands, results)`,
    except that the optional operands of `loom.linear_attention` (gate,
    beta, initial state) are introduced by their keyword
    (`gate(%g)`), since several of them may have the same type.
    Boolean options are unit attributes (`{causal}`), numbers are typed
    (`scale = 0.125 : f32`, `block_q = 64 : i64`) and enums are strings
    (`feature_map = "relu"`). Attention tensors are `[B, H, S, D]`, linear
    weights `[N, K]` and spatial tensors channels-last, as in PyTorch.

    Arithmetic inside an op accumulates in `f32` whatever the element type;
    results are rounded once, to nearest even. `i4` tensors hold signed values
    in [-8, 7], packed two per byte along the innermost dimension in memory.

    Attributes whose names carry no dialect prefix and that an op does not
    define are rejected, so that a misspelt option (`casual`) is an error
    rather than silently ignored.

    Every operand and result type has a size in bytes, with each 0 or
    dynamic dimension counted as 1 and at least a byte per element, of at
    most 2^63 - 1: `tensor<9223372036854775807x2xf32>` is rejected ("is too
    large"), since every size and stride computed from it would overflow.

    Example, a causal GQA attention:

    ```mlir
    %o = loom.attention %q, %k, %v {causal, scale = 0.125 : f32}
        : (tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>)
        -> tensor<1x8x128x64xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMDIALECT_TD
