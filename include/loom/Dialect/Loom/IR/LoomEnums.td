//===- LoomEnums.td - enumerations behind loom's string options -*- tablegen -*-===//
//
// The contract writes enum options as plain strings (`feature_map = "relu"`),
// so the ops store them as StrAttr; these enums give C++ code a typed view and
// the string <-> enum conversions the verifiers use.

#ifndef LOOM_DIALECT_LOOM_IR_LOOMENUMS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMENUMS_TD

include "mlir/IR/EnumAttr.td"

def Loom_FeatureMap : I32Enum<"FeatureMap",
    "feature map phi of `loom.linear_attention`", [
      I32EnumCase<"Identity", 0, "identity">,
      I32EnumCase<"Relu", 1, "relu">,
      I32EnumCase<"EluPlusOne", 2, "elu_plus_one">]> {
  let cppNamespace = "::loom";
  let description = [{
    The feature map applied to queries and keys by `loom.linear_attention`:
    `"identity"` (the default), `"relu"`, or `"elu_plus_one"` (`elu(x) + 1`).

    Example: `feature_map = "elu_plus_one"`.
  }];
}

def Loom_UpdateRule : I32Enum<"UpdateRule",
    "state update rule of `loom.linear_attention`", [
      I32EnumCase<"Additive", 0, "additive">,
      I32EnumCase<"Delta", 1, "delta">]> {
  let cppNamespace = "::loom";
  let description = [{
    How `loom.linear_attention` writes a token into its state:
    `"additive"` (the default) adds `phi(k_t) v_t^T`; `"delta"` first
    erases the value stored along `phi(k_t)` with strength `beta_t`
    (`S_t = (I - beta_t phi(k_t) phi(k_t)^T) Diag(a_t) S_{t-1}
    + beta_t phi(k_t) v_t^T`).

    Example: `rule = "delta"`.
  }];
}

def Loom_RopeStyle : I32Enum<"RopeStyle",
    "pairing of rotated components in `loom.rope`", [
      I32EnumCase<"Half", 0, "half">,
      I32EnumCase<"Interleaved", 1, "interleaved">]> {
  let cppNamespace = "::loom";
  let description = [{
    `"half"` (GPT-NeoX, the default) rotates `x[i]` with `x[i + D/2]`;
    `"interleaved"` (GPT-J) rotates `x[2i]` with `x[2i + 1]`.

    Example: `style = "interleaved"`.
  }];
}

def Loom_GeluApproximation : I32Enum<"GeluApproximation",
    "formula used by `loom.gelu`", [
      I32EnumCase<"None", 0, "none">,
      I32EnumCase<"Tanh", 1, "tanh">]> {
  let cppNamespace = "::loom";
  let description = [{
    `"none"` (the default) is the exact `x * (1 + erf(x / sqrt(2))) / 2`;
    `"tanh"` is `x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2`.

    Example: `approximate = "tanh"`.
  }];
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMENUMS_TD
