//===- LoomToLinalg.h - patterns lowering loom ops to linalg ------*- C++ -*-===//

#ifndef LOOM_CONVERSION_LOOMTOLINALG_LOOMTOLINALG_H
#define LOOM_CONVERSION_LOOMTOLINALG_LOOMTOLINALG_H

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace loom {

/// All patterns of convert-loom-to-linalg.
void populateLoomToLinalgPatterns(mlir::RewritePatternSet &patterns);

// One family per file (lib/Conversion/LoomToLinalg/<Family>.cpp), so that a
// change rebuilds one translation unit.
/// attention, block_sparse_attention, paged_attention, select_blocks,
/// merge_attention.
void populateAttentionToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// linear_attention, pool_mixer, dwconv.
void populateMixerToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// linear, qlinear, quantize, qmatmul.
void populateLinearToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// rms_norm, layer_norm, rope, gelu, silu.
void populateElementwiseToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// kv_cache_write.
void populateKvCacheToLinalgPatterns(mlir::RewritePatternSet &patterns);

} // namespace loom

#endif // LOOM_CONVERSION_LOOMTOLINALG_LOOMTOLINALG_H
