// A GPU module's host code exactly as MLIR's gpu-to-llvm lowers it, for RuntimeCudaTest.
//
// Built with upstream tools (see CMakeLists.txt) and linked with
// UpstreamModule.c, which adds the Loom signature and entry wrapper, so that
// the runtime's mgpu* functions are tested against what gpu-to-llvm emits:
// the constructor calling mgpuModuleLoadJIT (PTX, as format=isa embeds it),
// streams from gpu.wait async, gpu.alloc/gpu.dealloc, launches by name.
// The kernels are empty here: the fake driver runs its own host versions of
// copy_f32 and scale_f32 (pointer, pointer, i64).
module attributes {gpu.container_module} {
  func.func @scale(%x: memref<?xf32>) -> memref<?xf32> attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c255 = arith.constant 255 : index
    %c256 = arith.constant 256 : index
    %n = memref.dim %x, %c0 : memref<?xf32>
    %t0 = gpu.wait async
    %out, %t1 = gpu.alloc async [%t0] (%n) : memref<?xf32>
    %tmp, %t2 = gpu.alloc async [%t1] (%n) : memref<?xf32>
    %xi = memref.extract_aligned_pointer_as_index %x : memref<?xf32> -> index
    %oi = memref.extract_aligned_pointer_as_index %out : memref<?xf32> -> index
    %ti = memref.extract_aligned_pointer_as_index %tmp : memref<?xf32> -> index
    %x64 = arith.index_cast %xi : index to i64
    %o64 = arith.index_cast %oi : index to i64
    %t64 = arith.index_cast %ti : index to i64
    %xp = llvm.inttoptr %x64 : i64 to !llvm.ptr
    %op = llvm.inttoptr %o64 : i64 to !llvm.ptr
    %tp = llvm.inttoptr %t64 : i64 to !llvm.ptr
    %n64 = arith.index_cast %n : index to i64
    %s = arith.addi %n, %c255 : index
    %g = arith.divui %s, %c256 : index
    %t3 = gpu.launch_func async [%t2] @kernels::@copy_f32 blocks in (%g, %c1, %c1) threads in (%c256, %c1, %c1) args(%xp : !llvm.ptr, %tp : !llvm.ptr, %n64 : i64)
    %t4 = gpu.launch_func async [%t3] @kernels::@scale_f32 blocks in (%g, %c1, %c1) threads in (%c256, %c1, %c1) args(%tp : !llvm.ptr, %op : !llvm.ptr, %n64 : i64)
    %t5 = gpu.dealloc async [%t4] %tmp : memref<?xf32>
    gpu.wait [%t5]
    return %out : memref<?xf32>
  }
  gpu.module @kernels {
    gpu.func @copy_f32(%a: !llvm.ptr, %b: !llvm.ptr, %n: i64) kernel { gpu.return }
    gpu.func @scale_f32(%a: !llvm.ptr, %b: !llvm.ptr, %n: i64) kernel { gpu.return }
  }
}
