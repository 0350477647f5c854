// Shapes whose every loop has one iteration (decode with batch 1 and one
// channel, say) compile for the GPU: each loop nest reaches
// loom-gpu-map-loops as a parallel loop and becomes a launch, so no host code
// loads from a device buffer.
// RUN: loom-opt %s --loom-gpu-pipeline="chip=sm_90a to-llvm=false" | FileCheck %s

// CHECK-LABEL: func.func @unit
// CHECK: gpu.launch_func
// CHECK-NOT: memref.load
// CHECK: return
func.func @unit(%x: tensor<1x1xbf16>, %w: tensor<1x1xbf16>) -> tensor<1x1xbf16> {
  %y = loom.linear %x, %w : (tensor<1x1xbf16>, tensor<1x1xbf16>) -> tensor<1x1xbf16>
  %z = loom.silu %y : (tensor<1x1xbf16>) -> tensor<1x1xbf16>
  %g = loom.gelu %z : (tensor<1x1xbf16>) -> tensor<1x1xbf16>
  return %g : tensor<1x1xbf16>
}
