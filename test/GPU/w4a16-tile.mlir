// The W4A16 register kernel's tile override `w4a16:CONSUMERSxROWS` (which
// implies `w4a16:registers`): consumer warpgroups of 64 weight rows each
// and rows of x, in place of the choice per shape (one consumer on 128
// rows here: M = N = 1024 makes 128 such tiles, one wave). Two consumers
// on 256 rows, which the choice does not take until timed on a GPU,
// assemble without spills and without an access to the registers of
// products in flight (test/GPU/wgmma-sass.test compiles this file with
// w4a16:2x256). A tile the kernel cannot build is an error at the op; one
// whose stages cannot fit in shared memory too.
//
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{tiles=w4a16:registers})' | FileCheck %s --check-prefix=CHOICE
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{tiles=w4a16:2x256})' | FileCheck %s --check-prefix=TILE
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{tiles=w4a16:1x64})' | FileCheck %s --check-prefix=SMALL
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: tile 'w4a16:3x128' is not supported on sm_90a: one or two consumer warpgroups" -- loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=w4a16:3x128'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: tile 'w4a16:2x512' is not supported on sm_90a: x's tile must have 64, 128 or 256 rows" -- loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=w4a16:2x512'

// CHOICE: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f32_g128_nobias_bf16_64x128_s8_r40x232 blocks
// TILE: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f32_g128_nobias_bf16_128x256_s6_r40x232 blocks in ({{.*}}) threads in (%c384{{.*}}) dynamic_shared_memory_size %c222208_i32
// SMALL: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232 blocks in ({{.*}}) threads in (%c256{{.*}})
func.func @m1024(%x: tensor<1024x1024xbf16>, %w: tensor<1024x1024xi4>, %s: tensor<1024x8xf32>) -> tensor<1024x1024xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1024x1024xbf16>, tensor<1024x1024xi4>, tensor<1024x8xf32>) -> tensor<1024x1024xbf16>
  return %y : tensor<1024x1024xbf16>
}
