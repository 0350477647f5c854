// loom-set-target parses the chip and tiles once and attaches them to the
// module as loom.target; loom-gpu-kernels and loom-tile read that attribute
// when they are given no chip or tiles of their own.
//
// RUN: loom-opt %s --loom-set-target | FileCheck %s --check-prefix=DEFAULT
// RUN: loom-opt %s '--loom-set-target=chip=sm_80 tiles=gemm:64x64x32x3,rows:64' | FileCheck %s --check-prefix=SM80
// RUN: loom-opt %s '--loom-set-target=chip=sm_80 tiles=rows:64' | loom-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: loom-opt %s '--loom-set-target=chip=sm_80 tiles=rows:64' --loom-gpu-kernels | FileCheck %s --check-prefix=KERNELS
// RUN: loom-opt %s '--loom-set-target=chip=sm_80 tiles=rows:64' '--loom-gpu-kernels=tiles=rows:128' | FileCheck %s --check-prefix=OPTION
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-set-target{chip=cpu tiles=attention:32x16},func.func(loom-tile))' | FileCheck %s --check-prefix=TILE
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-set-target: unknown chip 'sm_70'" -- loom-opt %s '--loom-set-target=chip=sm_70'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-set-target: malformed tile 'rows:0'" -- loom-opt %s '--loom-set-target=chip=sm_90a tiles=rows:0'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-kernels: unknown chip 'cpu'" -- loom-opt %s '--loom-set-target=chip=cpu' --loom-gpu-kernels

// DEFAULT: module attributes {loom.target = #loom.target<chip = "sm_90a">}
// SM80: module attributes {loom.target = #loom.target<chip = "sm_80", tiles = "gemm:64x64x32x3,rows:64">}
// ROUNDTRIP: module attributes {loom.target = #loom.target<chip = "sm_80", tiles = "rows:64">}
// The chip and the row tile come from the attribute: sm_80, 64 threads a row.
// KERNELS: gpu.func @loom_rms_norm_bf16_t64_r1_v
// An option overrides the attribute's tiles.
// OPTION: gpu.func @loom_rms_norm_bf16_t128_r1_v
// loom-tile takes the attribute's attention tile: 32 query rows a tile.
// TILE: scf.forall {{.*}} to (1, 2, 128) step (1, 1, 32)

func.func @norm(%x: tensor<16x1024xbf16>, %g: tensor<1024xbf16>) -> tensor<16x1024xbf16> {
  %y = loom.rms_norm %x, %g : (tensor<16x1024xbf16>, tensor<1024xbf16>) -> tensor<16x1024xbf16>
  return %y : tensor<16x1024xbf16>
}

func.func @attention(%q: tensor<1x2x128x64xf32>, %k: tensor<1x2x128x64xf32>, %v: tensor<1x2x128x64xf32>) -> tensor<1x2x128x64xf32> {
  %o = loom.attention %q, %k, %v : (tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>) -> tensor<1x2x128x64xf32>
  return %o : tensor<1x2x128x64xf32>
}
