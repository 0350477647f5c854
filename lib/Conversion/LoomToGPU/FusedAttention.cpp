//===- FusedAttention.cpp - attention fusion groups as one kernel ----------===//
//
// A fusion group anchored on loom.attention / loom.block_sparse_attention /
// loom.linear_attention
// (loom-fuse: RoPE and layout changes of q, k, v as the prologue, layout
// changes of the result as the epilogue) as one launch of the
// flash-attention kernel: q, k, v and the result are strided views of the
// group's buffers ([S, H*D] read and written in place) and RoPE rotates
// the Q and K tiles in shared memory (rewriteAttentionGroup); the same for
// loom.linear_attention and its chunked kernel, without RoPE
// (rewriteLinearAttentionGroup). Groups with dynamic sizes are inlined and
// take the op-by-op rewrites (select_blocks groups have their own kernel,
// FusedSelectBlocks.cpp).

#include "Launch.h"

using namespace mlir;

FailureOr<bool> loom::rewriteFusedAttention(loom::KernelOp group,
                                            const gpu::Target &target) {
  Operation *anchor = nullptr;
  for (Operation &op : group.getBodyBlock().without_terminator())
    if (isa<loom::AttentionOp, loom::BlockSparseAttentionOp,
            loom::LinearAttentionOp>(op)) {
      if (anchor)
        return false;
      anchor = &op;
    }
  if (!anchor)
    return false;
  IRMapping map;
  group.inlineBody(&map);
  Operation *clone = map.lookup(anchor);
  if (failed(isa<loom::LinearAttentionOp>(clone)
                 ? gpu::rewriteLinearAttentionGroup(clone, target)
                 : gpu::rewriteAttentionGroup(clone, target)))
    return failure();
  return true;
}
