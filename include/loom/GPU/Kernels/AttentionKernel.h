//===- AttentionKernel.h - the flash-attention kernel -----------*- C++ -*-===//
//
// Loom's flash-attention forward kernel (a gpu.func in the gpu, nvgpu, nvvm,
// memref, vector, scf, arith and math dialects), for one configuration: the
// config struct, and the function that builds its gpu.func (see
// lib/GPU/Kernels/AttentionKernel.cpp for its schedule). The per-tile work
// (the mma.sync chains over head-dim and key steps, the online softmax over
// the accumulator fragments) is unrolled as the kernel is built, so that
// every register fragment is its own SSA value and the lowering needs no
// loop unrolling or vector indexing at run time; the control flow around it
// (the loop over key/value tiles, the block-sparse scan, the masks) is scf.

#ifndef LOOM_GPU_KERNELS_ATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_ATTENTIONKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace loom {
namespace gpu {

/// One instantiation of the flash-attention kernel.
struct AttentionKernelConfig {
  /// "bf16" or "f16": q, k, v and the result.
  std::string elementType = "bf16";
  /// D = Dv, a multiple of 16 up to 256 (the mma's k step; the conversion
  /// gives heads wider than 128 one m-tile a warp).
  int64_t headDim = 128;
  /// Warps of a CTA.
  int64_t warps = 4;
  /// 16-row m-tiles of queries a warp owns (1 or 2): a CTA owns
  /// 16 * warpTiles * warps rows. With 2, every K and V fragment read from
  /// shared memory feeds twice as many mma.sync (the kernel is bound by
  /// shared-memory bandwidth with 1), at the price of twice the accumulator
  /// registers.
  int64_t warpTiles = 1;
  /// Keep the warp's Q fragments in registers across the key/value loop
  /// (else they are read again by ldmatrix at every key/value tile; needed
  /// where 2 m-tiles of a 128-wide head leave no registers for them).
  bool qInRegisters() const { return warpTiles * headDim <= 128; }
  /// Keys per key/value tile (a multiple of 16).
  int64_t blockN = 64;
  /// Bottom-right aligned causal mask (key tiles past the diagonal are not
  /// visited).
  bool causal = false;
  /// A sliding window (needs `causal`); its size is a kernel argument.
  bool window = false;
  /// Scores are soft-capped, c * tanh(s / c); c is a kernel argument.
  bool softcap = false;
  /// The scale is known to be > 0 (and there is no softcap): the row maxima
  /// are taken over the raw scores and the scale is folded into one fma per
  /// score, exp2(s * scale * log2(e) - m * scale * log2(e)).
  bool positiveScale = false;
  /// Block-sparse: a layout [Lb, Lh, NQB, NKB] of i1 and block_q, block_k
  /// (index arguments) say which key tiles a CTA visits. block_q must be a
  /// multiple of blockM() and block_k a multiple of blockN.
  bool sparse = false;

  /// q, k, v and o may be strided views (unit stride in D only): the
  /// layout changes between [S, H*D] and [B, H, S, D] of a fusion group are
  /// read and written in place instead of copied.
  bool strided = false;
  /// RoPE of q (k) as the prologue of a fusion group: each Q tile (K tile)
  /// is rotated in shared memory after it lands, with the position of its
  /// rows in the sequence, in f32 and rounded to T once (as loom.rope). K's
  /// table rows travel with its tiles (stagedKTables()).
  bool ropeQ = false, ropeK = false;
  /// The rotation's pairs: (i, i + D/2) ("half") or (2i, 2i + 1).
  bool ropeInterleaved = false;
  /// The element type of the cos/sin tables [S, D/2].
  std::string ropeType = "f32";
  /// Also write each row's natural log-sum-exp (-inf for a row without
  /// visible key) to a [B, Hq, Sq] f32 argument, the last one.
  bool lse = false;

  int64_t blockM() const { return 16 * warpTiles * warps; }
  int64_t threads() const { return 32 * warps; }
  /// Elements per shared-memory row: the head dim plus 8 of padding, so that
  /// the eight 16-byte rows an ldmatrix reads fall into distinct banks.
  int64_t rowPitch() const { return headDim + 8; }
  /// Bytes of one element of the RoPE tables.
  int64_t tableBytes() const { return ropeType == "f32" ? 4 : 2; }
  /// K's RoPE reads the cos/sin rows of each K tile from shared memory,
  /// copied there ahead of the tile (16-byte cp.async, one stage), when the
  /// rows are whole 16-byte chunks that the CTA's threads cover evenly.
  bool stagedKTables() const {
    int64_t rowBytes = (headDim / 2) * tableBytes();
    return ropeK && rowBytes % 16 == 0 &&
           (blockN * (rowBytes / 16)) % threads() == 0;
  }
  /// Dynamic shared memory: the Q tile, two stages of K and V tiles, and
  /// K's cos and sin rows when staged.
  int64_t sharedMemoryBytes() const {
    return 2 * rowPitch() * (blockM() + 4 * blockN) +
           (stagedKTables() ? 2 * blockN * (headDim / 2) * tableBytes() : 0);
  }
  /// A name that encodes every choice above.
  std::string kernelName() const;
};

/// The kernel of `config` in `module`'s gpu.module @loom_kernels (built on
/// first use), @loom_kernels::@<config.kernelName()>. Its arguments, in
/// order:
///
///   q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, D],
///   o [B, Hq, Sq, D] (written)          memref<?x?x?x?xT>
///   layout [Lb, Lh, NQB, NKB]           memref<?x?x?x?xi1>  (sparse only)
///   block_q, block_k                    index               (sparse only)
///   scale                               f32
///   softcap c                           f32                 (softcap only)
///   window W                            index               (window only)
///   cos, sin of q [Sq, D/2]             memref<?x?xR>       (ropeQ only)
///   cos, sin of k [Skv, D/2]            memref<?x?xR>       (ropeK only)
///
/// With `strided`, q, k, v and o are memref<?x?x?x?xT, strided<[?, ?, ?, 1],
/// offset: ?>>.
/// Launch: grid (max(B * Hq, 1), max(ceil(Sq / blockM), 1), 1), block
/// (threads, 1, 1), dynamic shared memory sharedMemoryBytes(). Block x is
/// (b, h) = (x / Hq, x % Hq), block y the query tile (in reverse order).
mlir::FailureOr<mlir::SymbolRefAttr>
buildAttentionKernel(mlir::ModuleOp module, mlir::Location loc,
                     const AttentionKernelConfig &config);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_ATTENTIONKERNEL_H
