// loom-gpu-kernels replaces loom.rms_norm, loom.layer_norm (any rank, static
// or dynamic, bf16/f16/f32) and loom.rope (half and interleaved, f32 cos/sin)
// by launches of the bandwidth-bound row kernels instantiated into
// @loom_kernels: leading dims collapse into rows and the result is expanded
// back; a static row short enough stays in registers (the kernel name's _vN),
// a dynamic one streams (_v0) with a warp or a CTA per row picked at run
// time. rope with bf16 cos/sin is left for the generic path. The PTX RUN line
// lowers the kernels: 16-byte vector loads and stores, warp shuffles, and a
// 16-byte-aligned reduction buffer (ptxas-verified on H100).
//
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s --check-prefix=KERNEL
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s --check-prefix=STRIDED
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// Short rows (512 bf16 = 64 vectors): a warp per row, 4 rows per CTA, 2
// vectors per thread; grid ceil(128 / 4).
// CHECK-LABEL: func.func @rms_short_rows
// CHECK: %[[X:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<128x512xbf16> to memref<128x512xbf16>
// CHECK: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128x512xbf16>
// CHECK: %[[S:.*]] = arith.addi %{{.*}}, %[[C3:.*]] : index
// CHECK: %[[D:.*]] = arith.divui %[[S]], %[[C4:.*]] : index
// CHECK: %[[GRID:.*]] = arith.maxui %[[D]], %{{.*}} : index
// CHECK: gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_t32_r4_v2 blocks in (%[[GRID]], %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : f32)
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[Y]] restrict writable
// CHECK: return %[[T]]
// CHECK-NOT: loom.rms_norm
func.func @rms_short_rows(%x: tensor<128x512xbf16>, %g: tensor<512xbf16>) -> tensor<128x512xbf16> {
  %y = loom.rms_norm %x, %g {epsilon = 1.0e-6 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

// Long rows (8192 bf16): a CTA of 256 threads per row, 4 vectors each.
// CHECK-LABEL: func.func @rms_long_rows
// CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_t256_r1_v4
// CHECK-SAME: %[[EPS]] : f32)
func.func @rms_long_rows(%x: tensor<16384x8192xbf16>, %g: tensor<8192xbf16>) -> tensor<16384x8192xbf16> {
  %y = loom.rms_norm %x, %g : (tensor<16384x8192xbf16>, tensor<8192xbf16>) -> tensor<16384x8192xbf16>
  return %y : tensor<16384x8192xbf16>
}

// Rank 3: [2, 7, 333] as 14 rows, expanded back.
// CHECK-LABEL: func.func @rms_rank3
// CHECK: %[[C:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x7x333xf32> into tensor<14x333xf32>
// CHECK: bufferization.to_buffer %[[C]] read_only
// CHECK: gpu.launch_func @loom_kernels::@loom_rms_norm_f32_t32_r4_v3
// CHECK: %[[T:.*]] = bufferization.to_tensor %{{.*}} restrict writable : memref<14x333xf32> to tensor<14x333xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2]] output_shape [2, 7, 333]
// CHECK: return %[[R]]
func.func @rms_rank3(%x: tensor<2x7x333xf32>, %g: tensor<333xf32>) -> tensor<2x7x333xf32> {
  %y = loom.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : (tensor<2x7x333xf32>, tensor<333xf32>) -> tensor<2x7x333xf32>
  return %y : tensor<2x7x333xf32>
}

// Rank 1: one row.
// CHECK-LABEL: func.func @rms_rank1
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 100] : tensor<100xf16> into tensor<1x100xf16>
// CHECK: gpu.launch_func @loom_kernels::@loom_rms_norm_f16_t32_r4_v1
// CHECK: %[[R:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<1x100xf16> into tensor<100xf16>
// CHECK: return %[[R]]
func.func @rms_rank1(%x: tensor<100xf16>, %g: tensor<100xf16>) -> tensor<100xf16> {
  %y = loom.rms_norm %x, %g : (tensor<100xf16>, tensor<100xf16>) -> tensor<100xf16>
  return %y : tensor<100xf16>
}

// Dynamic rows: the result sized from x, the grid from the row count.
// CHECK-LABEL: func.func @rms_dynamic_rows
// CHECK: %[[N:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x200xf16>
// CHECK: memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?x200xf16>
// CHECK: %[[M:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x200xf16>
// CHECK: %[[S:.*]] = arith.addi %[[M]], %{{.*}} : index
// CHECK: %[[D:.*]] = arith.divui %[[S]], %{{.*}} : index
// CHECK: %[[GRID:.*]] = arith.maxui %[[D]], %{{.*}} : index
// CHECK: gpu.launch_func @loom_kernels::@loom_rms_norm_f16_t32_r4_v1 blocks in (%[[GRID]],
func.func @rms_dynamic_rows(%x: tensor<?x200xf16>, %g: tensor<200xf16>) -> tensor<?x200xf16> {
  %y = loom.rms_norm %x, %g : (tensor<?x200xf16>, tensor<200xf16>) -> tensor<?x200xf16>
  return %y : tensor<?x200xf16>
}

// Dynamic C: a warp per row up to 128 vectors (1024 bf16), else a CTA.
// CHECK-LABEL: func.func @layer_dynamic
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<?x?x?xbf16> into tensor<?x?xbf16>
// CHECK: %[[Y:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x?xbf16>
// CHECK: %[[SHORT:.*]] = arith.cmpi ule, %{{.*}}, %c1024{{.*}} : index
// CHECK: scf.if %[[SHORT]] {
// CHECK:   gpu.launch_func @loom_kernels::@loom_layer_norm_bf16_t32_r4_v0
// CHECK-SAME: args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : f32)
// CHECK: } else {
// CHECK:   gpu.launch_func @loom_kernels::@loom_layer_norm_bf16_t256_r1_v0
// CHECK: }
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[Y]] restrict writable
// CHECK: tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2]] output_shape [%{{.*}}, %{{.*}}, %{{.*}}]
func.func @layer_dynamic(%x: tensor<?x?x?xbf16>, %g: tensor<?xbf16>, %b: tensor<?xbf16>) -> tensor<?x?x?xbf16> {
  %y = loom.layer_norm %x, %g, %b : (tensor<?x?x?xbf16>, tensor<?xbf16>, tensor<?xbf16>) -> tensor<?x?x?xbf16>
  return %y : tensor<?x?x?xbf16>
}

// CHECK-LABEL: func.func @layer_static
// CHECK: gpu.launch_func @loom_kernels::@loom_layer_norm_bf16_t32_r4_v1
func.func @layer_static(%x: tensor<4x77x96xbf16>, %g: tensor<96xbf16>, %b: tensor<96xbf16>) -> tensor<4x77x96xbf16> {
  %y = loom.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : (tensor<4x77x96xbf16>, tensor<96xbf16>, tensor<96xbf16>) -> tensor<4x77x96xbf16>
  return %y : tensor<4x77x96xbf16>
}

// RoPE: [B*H*S, D] rows; grid ceil(rows * ceil((D/2) / 8) / 256).
// CHECK-LABEL: func.func @rope_half
// CHECK: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x8x128x64xbf16> into tensor<1024x64xbf16>
// CHECK: gpu.launch_func @loom_kernels::@loom_rope_half_bf16 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xbf16>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [1, 8, 128, 64]
// CHECK-NOT: loom.rope
func.func @rope_half(%x: tensor<1x8x128x64xbf16>, %c: tensor<128x32xf32>, %s: tensor<128x32xf32>) -> tensor<1x8x128x64xbf16> {
  %y = loom.rope %x, %c, %s {style = "half"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  return %y : tensor<1x8x128x64xbf16>
}

// RoPE of a projection's layout change ([S, H * D] expanded to [1, S, H, D]
// and transposed to [1, H, S, D], as q and k beside the wgmma attention):
// the strided kernel reads x through a view of the projection (no transpose
// kernel), rows in (b, h, s) order; the layout changes are gone.
// CHECK-LABEL: func.func @rope_transposed
// CHECK-NOT:   linalg.transpose
// CHECK:       %[[E:.*]] = memref.expand_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] output_shape [1, 77, 8, 64] : memref<77x512xbf16> into memref<1x77x8x64xbf16>
// CHECK:       %[[V:.*]] = memref.transpose %[[E]] (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<1x77x8x64xbf16> to memref<1x8x77x64xbf16, strided<[39424, 64, 512, 1]>>
// CHECK:       %[[VC:.*]] = memref.cast %[[V]] : memref<1x8x77x64xbf16, strided<[39424, 64, 512, 1]>> to memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK:       gpu.launch_func @loom_kernels::@loom_rope_half_bf16_strided {{.*}} args(%[[VC]] : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xbf16>)
// CHECK:       tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [1, 8, 77, 64]
// CHECK-NOT:   linalg.transpose
// CHECK:       return
// STRIDED:     gpu.func @loom_rope_half_bf16_strided(%{{.*}}: memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// STRIDED:       memref.extract_strided_metadata
// STRIDED:       vector.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, vector<8xbf16>
func.func @rope_transposed(%x: tensor<77x512xbf16>, %c: tensor<77x32xf32>, %s: tensor<77x32xf32>) -> tensor<1x8x77x64xbf16> {
  %e = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 77, 8, 64] : tensor<77x512xbf16> into tensor<1x77x8x64xbf16>
  %init = tensor.empty() : tensor<1x8x77x64xbf16>
  %t = linalg.transpose ins(%e : tensor<1x77x8x64xbf16>) outs(%init : tensor<1x8x77x64xbf16>) permutation = [0, 2, 1, 3]
  %y = loom.rope %t, %c, %s {style = "half"} : (tensor<1x8x77x64xbf16>, tensor<77x32xf32>, tensor<77x32xf32>) -> tensor<1x8x77x64xbf16>
  return %y : tensor<1x8x77x64xbf16>
}

// CHECK-LABEL: func.func @rope_interleaved_dynamic
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X:.*]], %{{.*}} : tensor<?x?xf32>
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x?xf32>
// CHECK: %[[S:.*]] = arith.addi %[[D]], %{{.*}} : index
// CHECK: %[[PER:.*]] = arith.divui %[[S]], %{{.*}} : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[ROWS]], %[[PER]] : index
// CHECK: gpu.launch_func @loom_kernels::@loom_rope_interleaved_f32
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}]
func.func @rope_interleaved_dynamic(%x: tensor<?x?x?x?xf32>, %c: tensor<?x?xf32>, %s: tensor<?x?xf32>) -> tensor<?x?x?x?xf32> {
  %y = loom.rope %x, %c, %s {style = "interleaved"} : (tensor<?x?x?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// bf16 cos/sin: left alone.
// CHECK-LABEL: func.func @unsupported
// CHECK: loom.rope %{{.*}} : (tensor<1x2x8x64xbf16>, tensor<8x32xbf16>, tensor<8x32xbf16>) -> tensor<1x2x8x64xbf16>
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @unsupported(%r: tensor<1x2x8x64xbf16>, %c: tensor<8x32xbf16>, %s: tensor<8x32xbf16>) -> tensor<1x2x8x64xbf16> {
  %z = loom.rope %r, %c, %s : (tensor<1x2x8x64xbf16>, tensor<8x32xbf16>, tensor<8x32xbf16>) -> tensor<1x2x8x64xbf16>
  return %z : tensor<1x2x8x64xbf16>
}

// The instantiated kernels, once each.
// KERNEL: gpu.module @loom_kernels {
// KERNEL: gpu.func @loom_rms_norm_bf16_t32_r4_v2(%{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?xbf16>, %{{.*}}: memref<?x?xbf16>, %{{.*}}: f32) kernel attributes {known_block_size = array<i32: 32, 4, 1>}
// Whole vectors only where every base is 16-byte aligned and C % 8 == 0.
// KERNEL: memref.extract_aligned_pointer_as_index
// KERNEL: arith.remui %{{.*}}, %c8 : index
// KERNEL: vector.load %{{.*}} {alignment = 16 : i64} : memref<?x?xbf16>, vector<8xbf16>
// KERNEL: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// KERNEL: gpu.shuffle  xor
// KERNEL: math.rsqrt
// KERNEL: arith.truncf %{{.*}} : vector<8xf32> to vector<8xbf16>
// KERNEL: vector.store %{{.*}} {alignment = 16 : i64} : memref<?x?xbf16>, vector<8xbf16>
// KERNEL: gpu.func @loom_rms_norm_bf16_t256_r1_v4({{.*}}) workgroup(%{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// KERNEL: gpu.barrier
// KERNEL: gpu.func @loom_rms_norm_f32_t32_r4_v3(
// KERNEL: gpu.func @loom_rms_norm_f16_t32_r4_v1(
// layer_norm, the corrected two-pass: sum x; then sum d and sum d^2 in one
// loop (d = x - mean, masked to the row); var = max(sum d^2 / C - r^2, 0)
// with r = sum d / C; three reductions, three slot buffers.
// KERNEL: gpu.func @loom_layer_norm_bf16_t256_r1_v0({{.*}}) workgroup(%{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// KERNEL: scf.for
// KERNEL: vector.create_mask
// KERNEL: scf.yield %{{.*}}, %{{.*}} : f32, f32
// KERNEL: arith.maximumf
// KERNEL: gpu.func @loom_layer_norm_bf16_t32_r4_v0(
// KERNEL: gpu.func @loom_layer_norm_bf16_t32_r4_v1(
// KERNEL: gpu.func @loom_rope_half_bf16(%{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xbf16>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// KERNEL: vector.load %{{.*}} {alignment = 16 : i64} : memref<?x?xf32>, vector<8xf32>
// KERNEL: gpu.func @loom_rope_interleaved_f32(
// KERNEL: vector.load %{{.*}} {alignment = 8 : i64} : memref<?x?xf32>, vector<2xf32>
// KERNEL: vector.shuffle %{{.*}}, %{{.*}} [0, 2] : vector<4xf32>, vector<4xf32>
// KERNEL-NOT: gpu.func

// PTX: .visible .entry loom_rms_norm_bf16_t32_r4_v2(
// PTX: ld.global.v4.b32
// PTX: shfl.sync.bfly.b32
// PTX: st.global.v4.b32
// PTX: .visible .entry loom_rms_norm_bf16_t256_r1_v4(
// PTX: .shared .align 16 .b8
// PTX: bar.sync
// PTX: .visible .entry loom_rope_half_bf16(
// PTX: ld.global.v4.b32
// PTX: st.global.v4.b32
