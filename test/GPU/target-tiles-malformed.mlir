// A malformed target description (chip or tile list) is one error line and
// exit status 1 from the pass, the pipeline and loom-compile, before any op
// is looked at and whatever the CUDA toolkit; the lists are checked by
// TargetDescription::get (unittests/Transforms has every message).
//
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: malformed tile 'attention:64' \(expected attention:QxKV with positive sizes\)" -- loom-opt %s '--loom-gpu-kernels=tiles=attention:64'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: malformed tile 'gemm:128x0x32' \(expected gemm:MxNxK or gemm:MxNxKxSTAGES with positive sizes\)" -- loom-opt %s '--loom-gpu-kernels=chip=sm_80 tiles=gemm:128x0x32'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: unknown chip 'cpu' \(expected sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or sm_80\)" -- loom-opt %s '--loom-gpu-kernels=chip=cpu'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: unknown tile kind 'conv' in 'conv:3x3' \(expected attention, gemm, gemv, rows or w4a16\)" -- loom-opt %s '--loom-gpu-pipeline=chip=sm_90a tiles=conv:3x3 to-llvm=false'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: malformed tile 'gemv:4x2x0' \(expected gemv:WARPSxTILESxUNROLL or gemv:WARPSxTILESxUNROLLxDEPTH with positive sizes\)" -- loom-opt %s '--loom-gpu-kernels=tiles=gemv:4x2x0'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: malformed tile 'w4a16:fast' \(expected w4a16:registers, w4a16:shared or w4a16:CONSUMERSxROWS\)" -- loom-opt %s '--loom-gpu-kernels=tiles=w4a16:fast'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: tile kind 'rows' given twice in 'rows:32,rows:64'" -- loom-opt %s '--loom-gpu-pipeline=tiles=rows:32,rows:64 to-llvm=false'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: empty tile in 'gemm:64x64x32,'" -- loom-opt %s '--loom-gpu-pipeline=tiles=gemm:64x64x32, to-llvm=false'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "^loom-compile: --tiles: malformed tile 'rows:32x2' \(expected rows:THREADS with positive sizes\)$" --empty-stdout -- loom-compile %s --target=sm_90a --tiles=rows:32x2 --emit=mlir
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "^loom-compile: --tiles is for GPU targets \(--target=sm_90a or sm_80\)$" --empty-stdout -- loom-compile %s --target=cpu --tiles=rows:64 --emit=llvm

func.func @norm(%x: tensor<4x64xf32>, %g: tensor<64xf32>) -> tensor<4x64xf32> {
  %y = loom.rms_norm %x, %g : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
