// loom-gpu-merge-modules gathers the kernels that gpu-kernel-outlining put in
// a gpu.module each into one (@loom_kernels when the kernel recipes made it),
// renaming what clashes, sharing identical constants, and retargeting every
// gpu.launch_func: gpu-module-to-binary then compiles once.
// RUN: loom-opt %s -split-input-file --loom-gpu-merge-modules -verify-diagnostics | FileCheck %s

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: func.func @f(
// CHECK: gpu.launch_func @loom_kernels::@attention
// CHECK: gpu.launch_func @loom_kernels::@f_kernel blocks
// CHECK: gpu.launch_func @loom_kernels::@f_kernel_0 blocks
// CHECK: gpu.launch_func @loom_kernels::@[[RENAMED:.*]] blocks
// CHECK-NOT: gpu.module @f_kernel
// CHECK: gpu.module @loom_kernels {
// CHECK-DAG: memref.global "private" constant @shared : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>
// CHECK-DAG: memref.global "private" constant @other : memref<2xf32> = dense<[3.000000e+00, 4.000000e+00]>
// CHECK-DAG: memref.global "private" constant @[[OTHER2:other_.*]] : memref<2xf32> = dense<[5.000000e+00, 6.000000e+00]>
// CHECK-DAG: gpu.func @attention(
// CHECK-DAG: gpu.func @f_kernel(
// CHECK-DAG: gpu.func @f_kernel_0(
// The kernel named like the recipe's is renamed, and reads the renamed
// constant.
// CHECK-DAG: gpu.func @[[RENAMED]](
// CHECK-DAG: memref.get_global @[[OTHER2]]
// CHECK-NOT: gpu.module
module attributes {gpu.container_module} {
  func.func @f(%a: memref<2xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @loom_kernels::@attention blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xf32>)
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel_0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xf32>)
    gpu.launch_func @f_kernel_1::@attention blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<2xf32>)
    return
  }
  gpu.module @f_kernel {
    memref.global "private" constant @shared : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @f_kernel(%a: memref<2xf32>) kernel {
      %g = memref.get_global @shared : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @loom_kernels {
    memref.global "private" constant @other : memref<2xf32> = dense<[3.0, 4.0]>
    gpu.func @attention(%a: memref<2xf32>) kernel {
      %g = memref.get_global @other : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    memref.global "private" constant @shared : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @f_kernel_0(%a: memref<2xf32>) kernel {
      %g = memref.get_global @shared : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_1 {
    memref.global "private" constant @other : memref<2xf32> = dense<[5.0, 6.0]>
    gpu.func @attention(%a: memref<2xf32>) kernel {
      %g = memref.get_global @other : memref<2xf32>
      gpu.return
    }
  }
}

// -----

// One gpu.module (or none): nothing to do.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @only
module attributes {gpu.container_module} {
  gpu.module @only {
    gpu.func @k() kernel {
      gpu.return
    }
  }
}

// -----

// Modules already given different targets cannot become one.
module attributes {gpu.container_module} {
  gpu.module @a [#nvvm.target<chip = "sm_90a">] {
    gpu.func @k() kernel {
      gpu.return
    }
  }
  // expected-error @below {{loom-gpu-merge-modules: gpu.module @b has other targets than @a; merge before nvvm-attach-target}}
  gpu.module @b [#nvvm.target<chip = "sm_80">] {
    gpu.func @k() kernel {
      gpu.return
    }
  }
}
