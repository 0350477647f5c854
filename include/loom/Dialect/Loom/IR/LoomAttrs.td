//===- LoomAttrs.td - the loom dialect's attributes -------------*- tablegen -*-===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD

include "loom/Dialect/Loom/IR/LoomDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Loom_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Loom_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Loom_TargetAttr : Loom_Attr<"Target", "target"> {
  let summary = "The chip a module is compiled for, and tile overrides";
  let description = [{
    The target description of a module, attached to it as `loom.target` by
    `loom-set-target` (the first pass of `--loom-cpu-pipeline` and
    `--loom-gpu-pipeline`) and read by every pass that depends on the chip
    (`loom-tile`, `loom-gpu-kernels`), so the chip is parsed once.

    - `chip`: `"cpu"`, or a CUDA architecture `"sm_NN"` / `"sm_NNa"` with
      NN >= 80. Its facts (shared memory per block, SM count, registers, and
      the capabilities wgmma, TMA, fp8 `mma.sync`, `cp.async`) come from
      Loom's chip table (docs/Design.md, "The target description").
    - `tiles` (default empty): tile sizes that replace the kernels' own
      choice, a comma-separated list of `attention:QxKV`,
      `gemm:MxNxK[xSTAGES]`, `rows:THREADS`,
      `gemv:WARPSxTILESxUNROLL[xDEPTH]` and `w4a16:registers|shared|CxR`.

    A chip or tile list that does not parse is a verifier error.

    ```mlir
    module attributes {loom.target = #loom.target<chip = "sm_90a", tiles = "gemm:128x128x64x4">} {
      ...
    }
    ```
  }];
  let parameters = (ins StringRefParameter<"the chip">:$chip,
                        StringRefParameter<"tile overrides", "\"\"">:$tiles);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The target description this attribute names (it verified, so it
    /// parses).
    ::loom::TargetDescription getDescription() const;
    /// The name of the module attribute that holds it.
    static constexpr ::llvm::StringLiteral getAttrName() { return "loom.target"; }
  }];
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMATTRS_TD
