// loom-gpu-kernels on causal loom.linear_attention without normalize, q, k,
// v and the result bf16 or f16, a static Dk (a multiple of 8, at most 128
// once rounded up to 64) and a static Dv (a multiple of 8): the chunked
// tensor-core kernel (ChunkedLinearAttentionKernel.cpp), one CTA of 128
// threads per batch, head and 64-column slice of Dv; the additive rule with
// no gate, `decay`, a log-gate per head or per key dimension (GLA), the
// delta rule with no gate, `decay` or a gate per head (Gated DeltaNet), an
// initial and a final state. The others take the CUDA-core kernel
// (linear-attention-kernels.mlir) or the generic path
// (linear-attention-recurrent.mlir). The third RUN lowers the kernels to
// PTX.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels=chip=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,expand-strided-metadata,lower-affine,convert-scf-to-cf,arith-emulate-unsupported-floats{source-types=bf16 target-type=f32},convert-vector-to-llvm,convert-gpu-to-nvvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=FUSED

// A gate per head, an initial and a final state, Dk = Dv = 128: the
// arguments q, k, v, out, gate, initial state, final state (a fresh
// buffer, returned), scale. B * H * ceil(Dv / 64) = 16 CTAs would fill at
// most half of the 132 SMs, so the slices are 32 columns wide (`_n32`):
// grid (max(B * H, 1), max(ceil(Dv / 32), 1), 1), 128 threads, 95488 bytes
// of shared memory (Q and K tiles 2 x 64 x 136, V 2 x 64 x 40, V * w
// 64 x 40, the state's copy 128 x 40, 64 gates).
// CHECK-LABEL: func.func @gate_states
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x4x100x128xbf16>, %{{[^:]*}}: tensor<2x4x100x128xbf16>, %{{[^:]*}}: tensor<2x4x100x128xbf16>, %[[G:[^:]*]]: tensor<2x4x100xf32>, %[[S0:[^:]*]]: tensor<2x4x128x128xf32>)
// CHECK-DAG: %[[GB:.*]] = bufferization.to_buffer %[[G]] read_only
// CHECK-DAG: %[[GC:.*]] = memref.cast %[[GB]] : memref<2x4x100xf32> to memref<?x?x?xf32>
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S0]] read_only
// CHECK-DAG: %[[SC:.*]] = memref.cast %[[SB]] : memref<2x4x128x128xf32> to memref<?x?x?x?xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x100x128xbf16>
// CHECK-DAG: %[[FS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x128x128xf32>
// CHECK-DAG: %[[FSC:.*]] = memref.cast %[[FS]] : memref<2x4x128x128xf32> to memref<?x?x?x?xf32>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C31:.*]] = arith.constant 31 : index
// CHECK-DAG: %[[DV31:.*]] = arith.addi %{{.*}}, %[[C31]] : index
// CHECK-DAG: %[[GY:.*]] = arith.divui %[[DV31]], %[[C32]] : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 95488 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk128_identity_gate_f32_n32_init_final blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%c128{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %[[GC]] : memref<?x?x?xf32>, %[[SC]] : memref<?x?x?x?xf32>, %[[FSC]] : memref<?x?x?x?xf32>, %[[SCALE]] : f32)
// CHECK-DAG: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-DAG: %[[RS:.*]] = bufferization.to_tensor %[[FS]] restrict writable
// CHECK: return %[[R]], %[[RS]]
// SM80-LABEL: func.func @gate_states
// SM80: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk128_identity_gate_f32_n32_init_final
func.func @gate_states(%q: tensor<2x4x100x128xbf16>, %k: tensor<2x4x100x128xbf16>, %v: tensor<2x4x100x128xbf16>, %g: tensor<2x4x100xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x4x100x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.125 : f32} : (tensor<2x4x100x128xbf16>, tensor<2x4x100x128xbf16>, tensor<2x4x100x128xbf16>, tensor<2x4x100xf32>, tensor<2x4x128x128xf32>) -> (tensor<2x4x100x128xbf16>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x4x100x128xbf16>, tensor<2x4x128x128xf32>
}

// Per-head decay (the rates in the name, as their f32 bits), relu, f16,
// Dk = 40 (tiles 64 deep, the columns past Dk zero), Dv = 24, dynamic H and
// S (so 64-column slices): 73984 bytes of shared memory; no gate operand, no
// state.
// CHECK-LABEL: func.func @decay_f16
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 73984 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_f16_dk40_relu_decay_3dcccccd_3f000000 blocks in {{.*}} dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : f32)
func.func @decay_f16(%q: tensor<1x?x?x40xf16>, %k: tensor<1x?x?x40xf16>, %v: tensor<1x?x?x24xf16>) -> tensor<1x?x?x24xf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "relu", decay = array<f32: 0.1, 0.5>} : (tensor<1x?x?x40xf16>, tensor<1x?x?x40xf16>, tensor<1x?x?x24xf16>) -> tensor<1x?x?x24xf16>
  return %o : tensor<1x?x?x24xf16>
}

// The delta rule with a gate per head, beta in bf16 (its argument after the
// gate's), a final state, Dk = Dv = 64 (32-column slices): 71168 bytes of
// shared memory, the additive kernel's 57600 plus U (64 x 40), the inverted
// diagonal blocks of I + L (4 x 16 x 24), L's diagonal blocks (4 x 16 x 20
// f32) and beta (64 f32).
// CHECK-LABEL: func.func @delta_gate
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 71168 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_delta_bf16_n32_final blocks in {{.*}} dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?xf32>, %{{.*}} : memref<?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// CHECK-NOT: loom.linear_attention
// SM80-LABEL: func.func @delta_gate
// SM80: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_delta_bf16_n32_final
func.func @delta_gate(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>, %g: tensor<2x4x100xf32>, %b: tensor<2x4x100xbf16>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>, tensor<2x4x100xbf16>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>)
  return %o, %s : tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>
}

// Outside the kernel's reach, each for one reason: normalize, f32, a
// dynamic Dv, Dv not a multiple of 8, Dk past 128 (these take the CUDA-core
// kernel), and the delta rule with a Dv of 20 (not a multiple of 8; the
// token-by-token kernel, at any length).
// CHECK-LABEL: func.func @declined
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk64_causal_norm_identity 
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_f32_dk64_causal_identity 
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk64_causal_identity 
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk64_causal_identity 
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk136_causal_identity 
// CHECK-NOT: linear_attention_mma
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_bf16_dk64_identity_keygate_f32_delta_bf16 
// CHECK: return
func.func @declined(%q: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %qf: tensor<1x2x100x64xf32>, %vd: tensor<1x2x100x?xbf16>,
                    %v20: tensor<1x2x100x20xbf16>, %q136: tensor<1x2x100x136xbf16>, %g: tensor<1x2x100x64xf32>, %b: tensor<1x2x100xbf16>)
    -> (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xf32>, tensor<1x2x100x?xbf16>, tensor<1x2x100x20xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x20xbf16>) {
  %0 = loom.linear_attention %q, %q, %v {causal, normalize} : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) -> tensor<1x2x100x64xbf16>
  %1 = loom.linear_attention %qf, %qf, %qf {causal} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>) -> tensor<1x2x100x64xf32>
  %2 = loom.linear_attention %q, %q, %vd {causal} : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x?xbf16>) -> tensor<1x2x100x?xbf16>
  %3 = loom.linear_attention %q, %q, %v20 {causal} : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x20xbf16>) -> tensor<1x2x100x20xbf16>
  %4 = loom.linear_attention %q136, %q136, %v {causal} : (tensor<1x2x100x136xbf16>, tensor<1x2x100x136xbf16>, tensor<1x2x100x64xbf16>) -> tensor<1x2x100x64xbf16>
  %6 = loom.linear_attention %q, %q, %v20 gate(%g) beta(%b) {causal, rule = "delta"} : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x20xbf16>, tensor<1x2x100x64xf32>, tensor<1x2x100xbf16>) -> tensor<1x2x100x20xbf16>
  return %0, %1, %2, %3, %4, %6 : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xf32>, tensor<1x2x100x?xbf16>, tensor<1x2x100x20xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x20xbf16>
}

// A gate per key dimension [B, H, S, Dk] (GLA), bf16 like q, with a final
// state; f16 data with an f32 gate and no state. Arguments q, k, v, out,
// gate (memref<?x?x?x?xG>), final state, scale. Shared memory adds the
// cumulative gates (64 x 72 f32), the raw gates (64 x 72 of the gate type)
// and the two scaled K tiles (Kh, Kb: 64 x 72 each), and drops V * w:
// 98560 bytes for the bf16 gate with 32-column slices (B * H = 8 CTAs),
// 120064 for the f32 gate with 64-column slices (dynamic B).
// CHECK-LABEL: func.func @gate_per_key
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 98560 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gatek_bf16_n32_final blocks in {{.*}} dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_f16_dk64_elu_plus_one_gatek_f32 blocks in {{.*}} dynamic_shared_memory_size %c120064_i32 args(%{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// SM80-LABEL: func.func @gate_per_key
// SM80: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gatek_bf16_n32_final
func.func @gate_per_key(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>, %g: tensor<2x4x100x64xbf16>,
                        %qh: tensor<?x2x70x64xf16>, %vh: tensor<?x2x70x64xf16>, %gh: tensor<?x2x70x64xf32>)
    -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>, tensor<?x2x70x64xf16>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>)
  %oh = loom.linear_attention %qh, %qh, %vh gate(%gh) {causal, feature_map = "elu_plus_one"} : (tensor<?x2x70x64xf16>, tensor<?x2x70x64xf16>, tensor<?x2x70x64xf16>, tensor<?x2x70x64xf32>) -> tensor<?x2x70x64xf16>
  return %o, %s, %oh : tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>, tensor<?x2x70x64xf16>
}

// The delta rule with a gate per key dimension (KDA): the per-key kernel's
// 98560 bytes plus U (64 x 40), the inverted diagonal blocks, L's diagonal
// blocks and beta, 112128 bytes; the arguments q, k, v, out, gate, beta,
// final state, scale.
// CHECK-LABEL: func.func @kda
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 112128 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gatek_bf16_delta_f32_n32_final blocks in {{.*}} dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// CHECK-NOT: loom.linear_attention
// SM80-LABEL: func.func @kda
// SM80: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gatek_bf16_delta_f32_n32_final
func.func @kda(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>, %g: tensor<2x4x100x64xbf16>, %b: tensor<2x4x100xf32>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>)
  return %o, %s : tensor<2x4x100x64xbf16>, tensor<2x4x64x64xf32>
}

// A fusion group: q, k, v and the result are layout changes of [S, H*D]
// tensors, which the kernel reads and writes in place (strided views); the
// final state leaves the group as a buffer of its own.
// FUSED-LABEL: func.func @fused_layout
// FUSED-NOT: linalg.transpose
// FUSED: %[[FS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x64x48xf32>
// FUSED: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_n32_final_strided {{.*}} args(%{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// FUSED-NOT: linalg.transpose
// FUSED: %[[RS:.*]] = bufferization.to_tensor %[[FS]] restrict writable
// FUSED: return %{{.*}}, %[[RS]] : tensor<77x96xbf16>, tensor<1x2x64x48xf32>
func.func @fused_layout(%q2: tensor<77x128xbf16>, %k2: tensor<77x128xbf16>, %v2: tensor<77x96xbf16>, %g: tensor<1x2x77xf32>) -> (tensor<77x96xbf16>, tensor<1x2x64x48xf32>) {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xbf16> into tensor<1x77x2x48xbf16>
  %e0 = tensor.empty() : tensor<1x2x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xbf16>) outs(%e0 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x77x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x77x2x64xbf16>) outs(%e1 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xbf16>) outs(%e2 : tensor<1x2x77x48xbf16>) permutation = [0, 2, 1, 3]
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x48xbf16>, tensor<1x2x77xf32>) -> (tensor<1x2x77x48xbf16>, tensor<1x2x64x48xf32>)
  %e3 = tensor.empty() : tensor<1x77x2x48xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xbf16>) outs(%e3 : tensor<1x77x2x48xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xbf16> into tensor<77x96xbf16>
  return %o2, %s : tensor<77x96xbf16>, tensor<1x2x64x48xf32>
}

// The kernel: 128 threads; cp.async of the chunk's tiles, the gates' warp
// scan (shuffles up), ldmatrix (K^T, V and the state through .trans) and
// mma.sync m16n8k16 on bf16 with f32 accumulators.
// CHECK: gpu.func @loom_linear_attention_mma_bf16_dk128_identity_gate_f32_n32_init_final({{.*}}) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvgpu.device_async_copy
// CHECK: gpu.shuffle  up
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// PTX-DAG: .entry loom_linear_attention_mma_bf16_dk128_identity_gate_f32_n32_init_final(
// PTX-DAG: .entry loom_linear_attention_mma_f16_dk40_relu_decay_3dcccccd_3f000000(
// PTX-DAG: .entry loom_linear_attention_mma_bf16_dk64_identity_gatek_bf16_n32_final(
// PTX-DAG: .entry loom_linear_attention_mma_f16_dk64_elu_plus_one_gatek_f32(
// PTX-DAG: .entry loom_linear_attention_mma_bf16_dk64_identity_gate_f32_delta_bf16_n32_final(
// PTX-DAG: bar.warp.sync
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: shfl.sync.up.b32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-DAG: ex2.approx
