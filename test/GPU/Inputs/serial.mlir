// Ops of host code that run in 1x1 kernels (map-loops.mlir, report-serial).
func.func @serial(%buf: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  // expected-remark @below {{loom-gpu-map-loops: 'memref.store' runs sequentially, in a 1x1 kernel}}
  memref.store %f, %buf[%c0] : memref<8xf32>
  // expected-remark @below {{loom-gpu-map-loops: 'scf.for' runs sequentially, in a 1x1 kernel}}
  scf.for %t = %c0 to %n step %c1 {
    %v = memref.load %buf[%c0] : memref<8xf32>
    memref.store %v, %buf[%c1] : memref<8xf32>
  }
  // A parallel loop is no remark.
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %buf[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
