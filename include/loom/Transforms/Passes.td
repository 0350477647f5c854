//===- Passes.td - graph-level fusion and tiling -----------------*- tablegen -*-===//
//
// The passes that run on the graph (loom ops on tensors) before the CPU and
// GPU paths split: the fusion decision (loom-fuse), and its undoing for paths
// that lower op by op (loom-inline-kernels). docs/fusion.md describes the
// rules.

#ifndef LOOM_TRANSFORMS_PASSES_TD
#define LOOM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomSetTargetPass : Pass<"loom-set-target", "::mlir::ModuleOp"> {
  let summary = "Parse the target description once and attach it to the module";
  let description = [{
    Parses `chip` and `tiles` (docs/Design.md, "The target description")
    and attaches the result to the module as `loom.target`
    (`#loom.target<chip = ..., tiles = ...>`), replacing any target already
    there. Passes that depend on the chip (`loom-tile`, `loom-gpu-kernels`)
    read that attribute. A malformed chip or tile list is an error.

    ```mlir
    // loom-opt --loom-set-target="chip=sm_90a tiles=gemm:128x128x64x4"
    module attributes {loom.target = #loom.target<chip = "sm_90a", tiles = "gemm:128x128x64x4">} {
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "The target: cpu, or sm_NN[a] with NN >= 80">,
    Option<"tiles", "tiles", "std::string", "\"\"",
           "Tile overrides, e.g. attention:64x64,gemm:128x128x32x4,rows:256">,
  ];
}

def LoomFusePass : Pass<"loom-fuse", "::mlir::func::FuncOp"> {
  let summary = "Group the ops of a block into fusion groups, one loom.kernel per kernel";
  let description = [{
    Decides, once and visibly, which ops run together as one kernel, and
    wraps each group in a `loom.kernel` whose operands and results are the
    only tensors that cross memory. Groups form around anchors, in this
    order (docs/fusion.md has the full rules):

    1. attention (`loom.attention`, `loom.block_sparse_attention`,
       `loom.select_blocks`, `loom.linear_attention`): the RoPE and layout
       changes (`linalg.transpose`, `tensor.expand_shape`,
       `tensor.collapse_shape`) that produce q, k and v are the prologue
       (recomputed in every group that needs them), the layout changes of the
       result the epilogue;
    2. GEMMs (`loom.linear`, `loom.qlinear`, `loom.qmatmul`): siblings of the
       same kind and configuration that read the same input fuse horizontally
       (QKV, gate/up); an `rms_norm`/`layer_norm` read only by them is the
       prologue; single-use elementwise consumers (activations, the SwiGLU
       gating multiply, the residual add) and a `loom.quantize` are the
       epilogue;
    3. mixers (`loom.pool_mixer`, `loom.dwconv`): a norm read only by the
       mixer is the prologue, elementwise consumers (the residual add) the
       epilogue;
    4. what is left: a norm or a chain of elementwise ops (same shape,
       single use) is one group, every other computing op its own group.

    `tensor.expand_shape`/`collapse_shape` outside any group stay outside
    (they move no data); `tensor.empty` and splat constants are cloned into
    the groups that use them. An op joins a group only if that creates no
    cycle between groups. Ops in nested regions are left alone.

    ```mlir
    %h = loom.rms_norm %x, %w : (tensor<64x512xbf16>, tensor<512xbf16>) -> tensor<64x512xbf16>
    %g = loom.linear %h, %wg : (tensor<64x512xbf16>, tensor<1024x512xbf16>) -> tensor<64x1024xbf16>
    %u = loom.linear %h, %wu : (tensor<64x512xbf16>, tensor<1024x512xbf16>) -> tensor<64x1024xbf16>
    %a = loom.silu %g : (tensor<64x1024xbf16>) -> tensor<64x1024xbf16>
    %y = arith.mulf %a, %u : tensor<64x1024xbf16>
    // becomes
    %y = loom.kernel "rms_norm+linear x2+silu+mulf" (%x, %w, %wg, %wu) : (...) -> tensor<64x1024xbf16> {
    ^bb0(...):
      ... the five ops ...
      loom.yield %y' : tensor<64x1024xbf16>
    }
    ```
  }];
  let options = [
    Option<"prologues", "prologues", "bool", "true",
           "Fuse norms, RoPE and layout changes into the op that consumes them">,
    Option<"epilogues", "epilogues", "bool", "true",
           "Fuse elementwise consumers, layout changes and quantize into the op that produces their input">,
    Option<"horizontal", "horizontal", "bool", "true",
           "Fuse sibling GEMMs that read the same input into one group">,
  ];
  let dependentDialects = ["::loom::LoomDialect"];
}

def LoomInlineKernelsPass : Pass<"loom-inline-kernels"> {
  let summary = "Replace every loom.kernel by its body";
  let description = [{
    Undoes `loom-fuse` for a lowering that works op by op: the body of each
    `loom.kernel` is cloned in its place with the block arguments replaced
    by the operands, and the yielded values replace the results. The
    program computes the same thing.

    ```mlir
    %y = loom.kernel "silu" (%x) : (tensor<8xf32>) -> tensor<8xf32> {
    ^bb0(%a: tensor<8xf32>):
      %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
      loom.yield %s : tensor<8xf32>
    }
    // becomes
    %y = loom.silu %x : (tensor<8xf32>) -> tensor<8xf32>
    ```
  }];
}

def LoomTilePass : Pass<"loom-tile", "::mlir::func::FuncOp"> {
  let summary = "Tile attention into online softmax over key/value tiles, on tensors";
  let description = [{
    Rewrites every `loom.attention` of the function (inside `loom.kernel`
    bodies too) into loops on tensors that never materialize the
    `[Sq, Skv]` score matrix (FlashAttention's online softmax), so that the
    CPU path runs the algebra of the GPU kernels:

    - an `scf.forall` over (batch, kv head, query tile of `blockQ` rows);
      the `G = Hq / Hkv` query heads of one kv head are one `[G, rows, D]`
      tile, so a key/value tile is extracted once for the whole GQA group;
    - inside, an `scf.for` over key/value tiles of `blockKV` keys carrying
      the running max `m`, running sum `l` and accumulator `acc` (f32
      tensors) as `iter_args`: `m' = max(m, rowmax(s))`,
      `l' = exp(m - m') l + rowsum(exp(s - m'))`,
      `acc' = exp(m - m') acc + exp(s - m') v`, with matmul-like
      `linalg.generic`s for `q k^T` and `p v`; a row that has seen no
      visible key keeps `m = -inf` and the exponentials subtract 0 there,
      so `exp(-inf - -inf)` never occurs;
    - `o = acc / l`, and exactly 0 for a row without a visible key.

    With `causal` (and `window`), the key loop of each query tile runs only
    over the tiles that hold a key visible to one of its rows (bottom-right
    alignment `i' = i + Skv - Sq`): fully masked tiles are skipped, not
    masked, and only the tiles that straddle the causal or window edge
    apply a mask (an `scf.if` per tile). Ragged edges (sizes that are not
    tile multiples, dynamic sizes) are dynamic tile sizes (`affine.min`),
    not padding.

    `loom.block_sparse_attention` is tiled the same way with the layout's
    blocks as tiles (`block_q` x `block_k`, whatever `tiles` says) and one
    query head per tile (layouts may differ per head); a key tile whose
    layout bit is false is passed over (an `scf.if` around its work).

    Tile sizes of `loom.attention` come from the target description
    (`chip`, `tiles`): the `attention:QxKV` override, else 64x64 rows x keys
    (on every chip: the GPU pipeline has its own attention recipe). A
    malformed `chip` or `tiles` is an error.

    ```mlir
    %o = loom.attention %q, %k, %v {causal}
        : (tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>)
        -> tensor<1x8x128x64xf32>
    // becomes (schematically)
    %o = scf.forall (%b, %h, %i0) = (0, 0, 0) to (1, 2, 128) step (1, 1, 64)
        shared_outs(%out = %empty) -> (tensor<1x8x128x64xf32>) {
      %qt = tensor.extract_slice %q[%b, %g0, %i0, 0] [1, 4, 64, 64] [1, 1, 1, 1]
      %hi = affine.min ...                        // keys up to the tile's last i'
      %r:3 = scf.for %j0 = %c0 to %hi step %c64 iter_args(%m = .., %l = .., %acc = ..) {
        %kt = tensor.extract_slice %k[%b, %h, %j0, 0] ...   // once for the 4 heads
        %s = scf.if %full { ... } else { ... mask ... }
        ... linalg.generic max, exp, sum, p v ...
        scf.yield %m2, %l2, %acc2
      }
      ... linalg.generic acc / l ...
      scf.forall.in_parallel { tensor.parallel_insert_slice ... }
    }
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"\"",
           "The target: cpu, or sm_NN[a] with NN >= 80; default: the "
           "module's loom.target, else cpu">,
    Option<"tiles", "tiles", "std::string", "\"\"",
           "Tile overrides of the target description, e.g. attention:32x16; "
           "default: those of the module's loom.target">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def LoomFuseElementwiseChainsPass : Pass<"loom-fuse-elementwise-chains"> {
  let summary = "Merge chains of elementwise linalg ops into one op";
  let description = [{
    Upstream elementwise fusion (`populateElementwiseOpsFusionPatterns`)
    restricted to chains: a producer with only parallel loops merges into a
    consumer with only parallel loops. A consumer with a reduction is left
    alone, since fusing into it recomputes the producer for every reduction
    step (on the GPU path a block mean inside `select_blocks` was recomputed
    for every pair of blocks, 3x slower than the two kernels). For the same
    reason a producer whose body holds loops or branches (`scf.for`,
    `scf.if`) is not merged into a consumer that reads it broadcast (an
    indexing map that is not a permutation): paged attention's row lookup,
    a loop over the sequences per token, would be redone for every score.
    The bodies are composed, so every intermediate rounding stays.

    ```mlir
    %s = linalg.generic {... ["parallel", "parallel"]} ins(%g) ...  // silu
    %m = linalg.generic {... ["parallel", "parallel"]} ins(%s, %u) ... // *
    // becomes one linalg.generic computing silu(g) * u
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LoomConstantGlobalsPass : Pass<"loom-constant-globals", "::mlir::ModuleOp"> {
  let summary = "Give tensor constants their memref.globals in program order";
  let description = [{
    One-shot bufferization turns each tensor-valued `arith.constant` into a
    `memref.get_global` of a `memref.global` that it creates at the top of
    the module, named after the type (`__constant_4x8xf32`, then `_0`,
    `_1`, ... for other values of the type) and reused for an equal value.
    With `bufferize-function-boundaries` MLIR 22 visits the functions in an
    order that changes from run to run, so the globals' order and names,
    and with them the compiled module's bytes, changed between two runs of
    the same compilation. This pass creates the same globals first, walking
    the functions and their constants in program order, so that
    bufferization finds and reuses them: the output is the same on every
    run. `alignment` must be the bufferization's `buffer-alignment` (64 by
    default) for the globals to be reused.

    ```mlir
    func.func @f() -> tensor<2xf32> {
      %c = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
      return %c : tensor<2xf32>
    }
    // gains, at the top of the module:
    memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[1.0, 2.0]> {alignment = 64 : i64}
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "uint64_t", "64",
           "Alignment of the globals (the bufferization's buffer-alignment)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // LOOM_TRANSFORMS_PASSES_TD
