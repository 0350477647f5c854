//===- Passes.td - conversions out of the loom dialect ---------*- tablegen -*-===//

#ifndef LOOM_CONVERSION_PASSES_TD
#define LOOM_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLoomToLinalgPass : Pass<"convert-loom-to-linalg"> {
  let summary = "Lower loom ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Replaces every loom op by upstream ops on tensors that compute exactly the
    semantics of the contract (DIALECT.md): mostly `linalg.generic` with `f32`
    accumulation, the bottom-right causal alignment, zeros for rows without a
    visible key, round-to-nearest-even results. This is the executable
    reference: it favours clarity over speed (attention materializes its score
    tensor; fusion and tiling passes produce the fast forms).

    Example:

    ```mlir
    %y = loom.silu %x : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
    ```

    becomes a `linalg.generic` that extends each element to `f32`, computes
    `x / (1 + exp(-x))` and truncates back to `bf16`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // LOOM_CONVERSION_PASSES_TD
