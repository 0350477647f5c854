// loom-gpu-kernels on loom.linear_attention, the CUDA-core kernel: ops with
// one element type (bf16, f16 or f32), rank 4 and a static Dk whose shared
// memory fits the chip become a launch of the chunked kernel (one CTA of 256
// threads per batch, head and 64-column slice of Dv) unless the tensor-core
// kernel takes them (causal bf16 or f16 without normalize, Dk and Dv static
// multiples of 8: linear-attention-mma.mlir); the others are left for the
// generic path.
// The second RUN lowers the kernels to PTX.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,expand-strided-metadata,lower-affine,convert-scf-to-cf,arith-emulate-unsupported-floats{source-types=bf16 target-type=f32},convert-vector-to-llvm,convert-gpu-to-nvvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// CHECK: module attributes {gpu.container_module}

// Causal with per-head decay, elu+1, normalize, bf16, Dk = Dv = 128: grid
// (max(B * H, 1), max(ceil(Dv / 64), 1), 1), 256 threads, 137472 bytes of
// shared memory; the scale is an argument.
// CHECK-LABEL: func.func @causal_decay
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x2x100x128xbf16>, %[[K:[^:]*]]: tensor<2x2x100x128xbf16>, %[[V:[^:]*]]: tensor<2x2x100x128xbf16>)
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: %[[QC:.*]] = memref.cast %[[QB]] : memref<2x2x100x128xbf16> to memref<?x?x?x?xbf16>
// CHECK-DAG: bufferization.to_buffer %[[K]] read_only
// CHECK-DAG: bufferization.to_buffer %[[V]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x2x100x128xbf16>
// CHECK-DAG: %[[OC:.*]] = memref.cast %[[OUT]]
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 137472 : i32
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk128_causal_norm_elu_plus_one_decay_3f000000_3e800000 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%[[C256]], %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SMEM]] args(%[[QC]] : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %[[OC]] : memref<?x?x?x?xbf16>, %[[SCALE]] : f32)
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
func.func @causal_decay(%q: tensor<2x2x100x128xbf16>, %k: tensor<2x2x100x128xbf16>, %v: tensor<2x2x100x128xbf16>) -> tensor<2x2x100x128xbf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, scale = 0.25 : f32, normalize} : (tensor<2x2x100x128xbf16>, tensor<2x2x100x128xbf16>, tensor<2x2x100x128xbf16>) -> tensor<2x2x100x128xbf16>
  return %o : tensor<2x2x100x128xbf16>
}

// Dynamic B, H, S and Dv, f32, not causal: the result's sizes come from q
// (B, H, S) and v (Dv); the grid's y is ceil(Dv / 64).
// CHECK-LABEL: func.func @dynamic_f32
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x?x?x32xf32>, %[[K:[^:]*]]: tensor<?x?x?x32xf32>, %[[V:[^:]*]]: tensor<?x?x?x?xf32>)
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: %[[H:.*]] = tensor.dim %[[Q]], %c1
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[Q]], %c2
// CHECK-DAG: %[[DV:.*]] = tensor.dim %[[V]], %c3
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%[[B]], %[[H]], %[[S]], %[[DV]]) {alignment = 64 : i64} : memref<?x?x?x?xf32>
// CHECK-DAG: %[[BH:.*]] = arith.muli %[[B]], %[[H]]
// CHECK-DAG: %[[GX:.*]] = arith.maxui %[[BH]], %c1
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_f32_dk32_norm_relu blocks in (%[[GX]], %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @dynamic_f32(%q: tensor<?x?x?x32xf32>, %k: tensor<?x?x?x32xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %o = loom.linear_attention %q, %k, %v {feature_map = "relu", normalize} : (tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %o : tensor<?x?x?x?xf32>
}

// Left alone: a dynamic Dk (the kernel's shared arrays are sized by it) and
// a Dk whose shared memory does not fit (Dk = 512 needs about 300 KiB).
// CHECK-LABEL: func.func @dynamic_dk
// CHECK: loom.linear_attention
// CHECK-NOT: gpu.launch_func
// CHECK-LABEL: func.func @huge_dk
// CHECK: loom.linear_attention
// CHECK-NOT: gpu.launch_func
func.func @dynamic_dk(%q: tensor<1x2x64x?xf16>, %k: tensor<1x2x64x?xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = loom.linear_attention %q, %k, %v {causal} : (tensor<1x2x64x?xf16>, tensor<1x2x64x?xf16>, tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}
func.func @huge_dk(%q: tensor<1x2x64x512xf16>, %k: tensor<1x2x64x512xf16>, %v: tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16> {
  %o = loom.linear_attention %q, %k, %v {causal} : (tensor<1x2x64x512xf16>, tensor<1x2x64x512xf16>, tensor<1x2x64x64xf16>) -> tensor<1x2x64x64xf16>
  return %o : tensor<1x2x64x64xf16>
}

// Dynamic H with decay: lambda = decay[min(h, 1)], as on the CPU (f32: the
// tensor-core kernel takes 16-bit types).
// CHECK-LABEL: func.func @dynamic_heads_decay
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_f32_dk64_causal_identity_decay_3dcccccd_3f000000
func.func @dynamic_heads_decay(%q: tensor<1x?x?x64xf32>, %k: tensor<1x?x?x64xf32>, %v: tensor<1x?x?x64xf32>) -> tensor<1x?x?x64xf32> {
  %o = loom.linear_attention %q, %k, %v {causal, decay = array<f32: 0.1, 0.5>} : (tensor<1x?x?x64xf32>, tensor<1x?x?x64xf32>, tensor<1x?x?x64xf32>) -> tensor<1x?x?x64xf32>
  return %o : tensor<1x?x?x64xf32>
}

// The kernels: 256 threads, FMAs on 4-wide f32 vectors of shared memory.
// CHECK: gpu.module @loom_kernels
// CHECK: gpu.func @loom_linear_attention_bf16_dk128_causal_norm_elu_plus_one_decay_3f000000_3e800000({{.*}}) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK: gpu.dynamic_shared_memory
// CHECK: vector.fma {{.*}} : vector<4xf32>
// CHECK: vector.maskedstore %{{.*}} : memref<?x?x?x?xbf16>, vector<4xi1>, vector<4xbf16>
// CHECK: gpu.func @loom_linear_attention_f32_dk32_norm_relu(
// CHECK: gpu.func @loom_linear_attention_f32_dk64_causal_identity_decay_3dcccccd_3f000000(
// CHECK: %[[HC:.*]] = arith.minui %{{.*}}, %{{.*}} : index
// CHECK: arith.cmpi eq, %[[HC]]

// PTX-DAG: .entry loom_linear_attention_bf16_dk128_causal_norm_elu_plus_one_decay_3f000000_3e800000(
// PTX-DAG: .entry loom_linear_attention_f32_dk32_norm_relu(
// PTX-DAG: .entry loom_linear_attention_f32_dk64_causal_identity_decay_3dcccccd_3f000000(
// PTX-DAG: ld.shared.v4.b32
// PTX-DAG: fma.rn.f32
// PTX-DAG: bar.sync
