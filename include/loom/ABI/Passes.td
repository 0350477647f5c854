//===- Passes.td - passes that give compiled modules their ABI -*- tablegen -*-===//
//
// The ABI of compiled modules is written down in docs/abi.md; these passes
// make the lowered IR obey it.

#ifndef LOOM_ABI_PASSES_TD
#define LOOM_ABI_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomPackI4ABIPass : Pass<"loom-pack-i4-abi", "::mlir::ModuleOp"> {
  let summary = "Pack i4 tensors two per byte at public function boundaries";
  let description = [{
    The runtime ABI stores `i4` tensors packed two per byte along the
    innermost dimension, the even index in the low nibble (DIALECT.md), while
    the CPU lowering gives every `i4` element a byte of its own. This pass
    rewrites every public `func.func` with a body so that its boundary is
    packed: an argument `tensor<...xKxi4>` becomes `tensor<...x(K/2)xi8>`
    followed by a `linalg.generic` that unpacks it (sign-extending each
    nibble) into the `i4` tensor the body used, and an `i4` result is packed
    by a `linalg.generic` before the return. Private functions and
    declarations are left alone. A static odd innermost dimension or a
    rank-0 `i4` tensor cannot be packed and is an error.

    ```mlir
    func.func @f(%w: tensor<4x8xi4>) -> tensor<4x8xi4>
    // becomes
    func.func @f(%w: tensor<4x4xi8>) -> tensor<4x4xi8>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def LoomReadOnlyEntryArgsPass
    : Pass<"loom-readonly-entry-args", "::mlir::ModuleOp"> {
  let summary = "Make public functions leave their tensor arguments unchanged";
  let description = [{
    One-shot bufferization with `bufferize-function-boundaries` treats function
    arguments as writable and may compute a result in place in an argument's
    buffer, which would clobber the caller's input (and make `--bench`
    repetitions see different inputs). This pass marks every tensor argument
    of every public function with a body `bufferization.writable = false`, so
    the bufferization copies instead. Runs on tensors, before bufferization.

    ```mlir
    func.func @f(%x: tensor<4xf32>) -> tensor<4xf32>
    // becomes
    func.func @f(%x: tensor<4xf32> {bufferization.writable = false}) -> tensor<4xf32>
    ```
  }];
}

def LoomFreshEntryResultsPass
    : Pass<"loom-fresh-entry-results", "::mlir::ModuleOp"> {
  let summary = "Make every result of a public function a fresh allocation";
  let description = [{
    The ABI lets the caller free every result buffer (`free` of the
    descriptor's allocated pointer). After bufferization a public function
    may return a view of an argument, a `memref.get_global` (whose allocated
    pointer is not a heap pointer), a value that is not an allocation at all,
    or the same allocation twice. This pass, run on buffers after the
    deallocation pipeline, copies every returned value that is not an
    allocation of its own (`memref.alloc` or `bufferization.clone`, returned
    once) into a new `memref.alloc`, so that each result owns its memory.
    An identity-layout `memref.expand_shape`, `memref.collapse_shape` or
    `memref.cast` of such an allocation counts as the allocation (it covers
    it contiguously and keeps its allocated pointer), so a kernel result
    reshaped back to the caller's shape is not copied.

    ```mlir
    func.func @f(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
      %g = memref.get_global @c : memref<4xf32>
      return %x, %g : memref<4xf32>, memref<4xf32>
    }
    // becomes
    func.func @f(%x: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
      %g = memref.get_global @c : memref<4xf32>
      %a = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
      memref.copy %x, %a : memref<4xf32> to memref<4xf32>
      %b = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
      memref.copy %g, %b : memref<4xf32> to memref<4xf32>
      return %a, %b : memref<4xf32>, memref<4xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def LoomStridedCopyToLinalgPass
    : Pass<"loom-strided-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    The LLVM lowering of `memref.copy` calls `memrefCopy` from MLIR's C
    runner utilities whenever a side is not contiguous; compiled modules must
    not depend on that library (loom-run runs where no LLVM is installed).
    This pass rewrites such copies into `linalg.copy`, which
    `convert-linalg-to-loops` turns into plain loops. Contiguous copies stay
    (they become `memcpy`).

    ```mlir
    memref.copy %s, %b : memref<4x4xf32, strided<[8, 1]>> to memref<4x4xf32>
    // becomes
    linalg.copy ins(%s : memref<4x4xf32, strided<[8, 1]>>) outs(%b : memref<4x4xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LoomBF16SelectAsI16Pass : Pass<"loom-bf16-select-as-i16"> {
  let summary = "Select bf16 values as their i16 bit patterns";
  let description = [{
    A compiled module may depend on libc and libm only. On x86 without
    AVX512-BF16, LLVM legalizes any operation on a `bfloat` value by
    promoting it to `float` and rounding back through `__truncsfbf2`, a
    compiler-runtime function that libgcc before GCC 13 lacks. After
    `arith-emulate-unsupported-floats` and `arith-expand{include-bf16}` the
    only such operation left is `arith.select` (the NaN case of the truncf
    expansion, and selects in user code); this pass rewrites a select of
    bf16 (or vectors of bf16) into a select of the i16 bit patterns between
    `arith.bitcast`s, which fold away around constants and other bitcasts.

    ```mlir
    %s = arith.select %c, %a, %b : bf16
    // becomes
    %ai = arith.bitcast %a : bf16 to i16
    %bi = arith.bitcast %b : bf16 to i16
    %si = arith.select %c, %ai, %bi : i16
    %s = arith.bitcast %si : i16 to bf16
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LoomEntrySizeAssertsPass
    : Pass<"loom-entry-size-asserts", "::mlir::ModuleOp"> {
  let summary = "Assert that every dynamically sized tensor of an entry fits in 64-bit sizes";
  let description = [{
    For every public `func.func` with a body (an entry), asserts for each of
    its tensor arguments and each tensor value in its body with a dynamic
    dimension that its size in bytes, with each 0 dimension counted as 1
    (so that its strides fit too) and each element at least a byte, is at
    most 2^63 - 1 (`cf.assert` with a message starting `loom-size:`). The
    verifiers reject static sizes beyond that (docs/Design.md, "Input
    limits"); dynamic ones come from the caller. `loom-entry-checks` hoists
    the asserts that depend on argument sizes only into the entry's check
    function, so a call whose sizes would overflow a size computation (the
    allocation of an attention's scores, a linearized index) is refused with
    `f: the argument sizes make argument 0 (tensor<?x?xf32>) larger than
    2^63 - 1 bytes` or `f: the argument sizes make a tensor<?x?xf32> value
    larger than 2^63 - 1 bytes (required at f.mlir:4:8)`. The size is
    computed with `arith.mului_extended`, no division, so every condition
    may be evaluated unconditionally.

    ```mlir
    func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
      // gains, for the argument (and likewise for each dynamic value):
      %d = tensor.dim %x, %c0 : tensor<?x8xf32>
      %n = arith.maxsi %d, %c1 : index          // 0 counts as 1
      %n64 = arith.index_cast %n : index to i64
      %lo, %hi = arith.mului_extended %c32_i64, %n64 : i64   // 8 x 4 bytes a row
      // ok = (%hi == 0) and (%lo >= 0)
      cf.assert %ok, "loom-size: argument 0: tensor<?x8xf32>"
      ...
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def LoomEntryChecksPass : Pass<"loom-entry-checks", "::mlir::ModuleOp"> {
  let summary = "Derive the argument-size checks of every entry";
  let description = [{
    Builds, for every public `func.func` with a body (an entry, docs/abi.md),
    a private function `__loom_check_<entry>` that takes every dimension of
    every argument (`index`, arguments in order, dimensions in order; an `i4`
    tensor's logical sizes) and returns NULL when the sizes are acceptable,
    else the address of a NUL-terminated message naming the first failed
    check (an `llvm.mlir.global` `__loom_check_<entry>_<k>`). The checks, in
    this order: every static dimension equals its type's, every dynamic one
    is not negative, and every relation between argument sizes that the body
    asserts (with `loom-entry-size-asserts`, also that no tensor's size
    overflows).

    The relations are not written per op: the pass reads the `cf.assert`
    ops that upstream `generate-runtime-verification` put into the entry
    (run it after `convert-loom-to-linalg`, with `canonicalize` and `cse`).
    An assert is kept when its condition depends only on argument sizes
    (`tensor.dim` of the entry's arguments with constant indices, constants,
    and pure `arith`, `index` and `affine` ops), at the top level of the
    entry or inside `scf.if` ops whose conditions do too (it then holds when
    they hold). In a linalg body (upstream verifies `tensor.extract` there
    per element), each conjunct `linalg.index k < bound` with a bound that
    depends on argument sizes only becomes `size of loop k <= bound`, where
    every loop of the op runs. Other asserts in loops or linalg bodies, and
    those that depend on data, are dropped. `max(x - 1, 0) + 1` (upstream's inferred
    loop size) is `x` and `min(x - 1, 0)` is `0` where an enclosing
    condition says `x > 0`; a check that folds to true is dropped and checks
    with the same message are merged. Messages read like
    `f: argument 2 dimension 0 (?) must equal argument 0 dimension 1
    (required at f.mlir:3:8)`.

    ```mlir
    func.func @f(%x: tensor<?x?xf32>, %g: tensor<?xf32>) -> tensor<?x?xf32> {
      %n = loom.rms_norm %x, %g : (tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
      return %n : tensor<?x?xf32>
    }
    // gains (after convert-loom-to-linalg and generate-runtime-verification)
    llvm.mlir.global internal constant @__loom_check_f_0("f: argument 0 dimension 0 (?) must not be negative\00")
    ...
    llvm.mlir.global internal constant @__loom_check_f_3("f: argument 1 dimension 0 (?) must equal argument 0 dimension 1 (required at f.mlir:2:8)\00")
    func.func private @__loom_check_f(%x0: index, %x1: index, %g0: index) -> !llvm.ptr
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::func::FuncDialect"
  ];
}

def LoomEntryIndexChecksPass
    : Pass<"loom-entry-index-checks", "::mlir::ModuleOp"> {
  let summary = "Check the index data that an entry's paged serving ops read (CPU modules)";
  let description = [{
    Builds, for every public `func.func` with a body (an entry) whose
    `loom.paged_attention`, `loom.kv_cache_write` or `loom.rope` with
    `positions` reads an index tensor that is an argument of the entry
    (through `tensor.cast`), a private function
    `__loom_index_check_<entry>(memref args...) -> !llvm.ptr` with
    `llvm.emit_c_interface`. It takes every argument as a memref of the
    argument's type, reads the index arguments (host memory: for CPU modules
    only) and returns NULL when every index meets its op's requirements, else
    the message of the first that does not, formatted with `snprintf` into a
    thread-local buffer (`__loom_index_message`, 512 bytes). The checks, in
    the order of the ops in the body:

    - `loom.paged_attention`: `q_offsets[0] = 0`; `q_offsets` does not
      decrease; its last value is at most `q`'s rows `T`; every `kv_lens[b]`
      in `[0, maxPages * page]`; every page a sequence reads,
      `block_table[b, i]` for `i < ceil(kv_lens[b] / page)`, in `[0, P)`
      (the other entries of a row are not read and not checked);
    - `loom.kv_cache_write`: every slot below `P * page` (a negative slot is
      padding and skipped);
    - `loom.rope` with `positions`: every position in `[0, N)`, `N` the
      tables' rows.

    A bound that is dynamic and not an argument's size, or an index tensor
    that the body computes, leaves that check out (the op still never reads
    out of bounds). Messages read like
    `step: loom.paged_attention (at paged.mlir:9:8): block_table[0, 1] = 7
    is outside [0, 3) (the cache's pages)`. `buildEntryChecks` runs this
    pass for CPU modules and `loom_entry_*`, `loom_shape_*` and
    `loom_call_*` call the function after the size checks
    (docs/abi.md, "Index checks").

    Example: `loom-opt --loom-entry-index-checks` on

    ```mlir
    func.func @f(%x: tensor<?x1x2xf32>, %cos: tensor<4x1xf32>,
                 %sin: tensor<4x1xf32>, %pos: tensor<?xi32>) -> tensor<?x1x2xf32> {
      %y = loom.rope %x, %cos, %sin, %pos : (...) -> tensor<?x1x2xf32>
      return %y : tensor<?x1x2xf32>
    }
    ```

    adds `func.func private @__loom_index_check_f(%arg0: memref<?x1x2xf32>,
    ..., %arg3: memref<?xi32>) -> !llvm.ptr`, a loop over `%arg3` for the
    first position outside `[0, 4)`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::cf::ControlFlowDialect"
  ];
}

#endif // LOOM_ABI_PASSES_TD
