// The whole --loom-gpu-pipeline: host code in the LLVM dialect calling the
// runtime's mgpu* functions (one stream per call, synchronized before the
// return), kernels compiled by NVPTX (format=isa: the PTX is embedded as
// text) or by ptxas too (format=bin, the default: a cubin).
// REQUIRES: ptxas
// RUN: loom-opt %s '--loom-gpu-pipeline=format=isa' | FileCheck %s
// RUN: loom-opt %s '--loom-gpu-pipeline=chip=sm_80 format=isa' | FileCheck %s --check-prefix=SM80
// RUN: loom-opt %s --loom-gpu-pipeline | FileCheck %s --check-prefix=BIN

// CHECK-NOT: memref.
// CHECK-NOT: scf.
// CHECK-LABEL: llvm.func @block(
// CHECK: %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: llvm.call @mgpuMemAlloc(%{{.*}}, %[[STREAM]], %{{.*}}) : (i64, !llvm.ptr, i8) -> !llvm.ptr
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @loom_kernels::@loom_rms_norm_f32_t32_r4_v1
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @loom_kernels::@block_kernel
// CHECK: llvm.call @mgpuMemFree(%{{.*}}, %[[STREAM]])
// CHECK: llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK: llvm.call @mgpuStreamDestroy(%[[STREAM]])
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_block(
// CHECK: gpu.binary @loom_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80", flags = {"ptxas-cmd-options" = ["--split-compile=0"]}, link = ["{{.*}}/libdevice.10.bc"]>, {{.*}}assembly = "{{.*}}.target sm_90a{{.*}}.visible .entry loom_rms_norm_f32_t32_r4_v1({{.*}}.visible .entry block_kernel(
// CHECK-DAG: llvm.func @mgpuStreamCreate() -> !llvm.ptr
// CHECK-DAG: llvm.func @mgpuMemAlloc(i64, !llvm.ptr, i8) -> !llvm.ptr
// CHECK-DAG: llvm.func @mgpuMemFree(!llvm.ptr, !llvm.ptr)
// CHECK-DAG: llvm.func @mgpuStreamSynchronize(!llvm.ptr)
// CHECK-DAG: llvm.func @mgpuStreamDestroy(!llvm.ptr)

// SM80: gpu.binary @loom_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80"{{.*}}assembly = "{{.*}}.target sm_80

// BIN: gpu.binary @loom_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a"{{.*}}bin = "\7FELF
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %a = loom.silu %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = arith.addf %a, %x : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}
