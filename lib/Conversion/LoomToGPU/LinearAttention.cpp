//===- LinearAttention.cpp - chunked linear attention recipe -------===//
//
// loom.linear_attention to a launch of a chunked kernel (CUDA cores, f32):
// one CTA of 256 threads per (batch, head, 64-column slice of Dv), walking
// the sequence in chunks of 64 rows with the state Ss = sum_j phi(k_j) v_j^T
// (Dk x 64 slice) and the key sum z = sum_j phi(k_j) in shared memory:
//
//   load phi(q), phi(k) of the chunk (transposed, f32) and its v slice
//   causal:  As[i][j] = scale phi(q_i).phi(k_j) exp(-lambda (i - j)), j <= i
//            o_i = As V + scale exp(-lambda i) phi(q_i) Ss      (i, j local)
//            den_i = sum_j As[i][j] + scale exp(-lambda i) phi(q_i).z
//            Ss = exp(-64 lambda) Ss + sum_j exp(-lambda (64 - j)) phi(k_j) v_j^T
//            z  = exp(-64 lambda) z  + sum_j exp(-lambda (64 - j)) phi(k_j)
//   otherwise: Ss, z over all chunks first (lambda = 0), then
//            o_i = scale phi(q_i) Ss, den_i = scale phi(q_i).z
//   with normalize o_i / (den_i + 1e-6), rounded once to T.
//
// All decay exponents are non-positive (no overflow); a thread computes a
// 4 x 4 register tile of each product from 16-byte shared-memory vectors.
// Covered: q, k, v and the result rank 4 with one element type (bf16, f16 or
// f32); Dk static (the shared memory, about 2 * 272 * roundup(Dk, 64) + 35 KiB,
// must fit the target: Dk <= 256 on sm_90a, <= 192 on sm_80); any B, H, S, Dv,
// static or dynamic; every feature map, causal, decay (per head, clamped to
// the last value for a dynamic H as on the CPU), scale and normalize. Other
// ops (mixed element types, dynamic Dk) are left to the generic path.
//
// Measured on H100 (B4 H16 S4096 D128 bf16, causal, decay, elu+1, normalize):
// 2.17 ms (the generic path: 768 ms; a PyTorch chunked version with f32
// matmuls: 6.85 ms; reading q, k, v and writing o: about 0.11 ms).

#include "Launch.h"
#include "StridedOperands.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>
#include <optional>
#include <sstream>

using namespace mlir;

namespace {

/// The kernel; ${...} are filled in by `kernelText`. Shared memory is viewed
/// in the numeric address space 3 so that vector.load/store of it lower
/// before convert-gpu-to-nvvm runs.
constexpr const char *kRecipe = R"mlir(gpu.module @recipe {
  gpu.func @${NAME}(%q: ${GT}, %k: ${GT},
                    %v: ${GT}, %out: ${GT},
                    %scale: f32)
      kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    %c64 = arith.constant 64 : index
    %c256 = arith.constant 256 : index
    %c4096 = arith.constant 4096 : index
    %cDK = arith.constant ${DK} : index
    %cDKm1 = arith.constant ${DKM1} : index
    %cDKP = arith.constant ${DKP} : index
    %cQK = arith.constant ${QKN} : index
    %cSN = arith.constant ${SN} : index
    %f0 = arith.constant 0.0 : f32
    %f1 = arith.constant 1.0 : f32
    %f64 = arith.constant 64.0 : f32
    %eps = arith.constant 1.0e-06 : f32
    %v0 = arith.constant dense<0.0> : vector<4xf32>
    %iota = arith.constant dense<[0.0, 1.0, 2.0, 3.0]> : vector<4xf32>
    %causal = arith.constant ${CAUSAL}
    %normalize = arith.constant ${NORMALIZE}
    %fmRelu = arith.constant ${RELU}
    %fmElu = arith.constant ${ELU}
    %intraN = arith.select %causal, %c64, %c0 : index

    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %oKt = arith.constant ${OFF_KT} : index
    %oV = arith.constant ${OFF_V} : index
    %oS = arith.constant ${OFF_S} : index
    %oA = arith.constant ${OFF_A} : index
    %oZ = arith.constant ${OFF_Z} : index
    %oDen = arith.constant ${OFF_DEN} : index
    %oG = arith.constant ${OFF_G} : index
    %oW = arith.constant ${OFF_W} : index
    // Qt, Kt: phi(q), phi(k) of the chunk transposed ([d][row], rows padded
    // to 68); Vs: the chunk's v slice [row][col]; Ss: the state [d][col];
    // As: the chunk's weights [i][j] (padded to 68); zs: the running key sum;
    // dens: the normalizers; gs[i] = exp(-lambda i), ws[j] = exp(-lambda (64 - j)).
    %Qtw = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<${DKP}x68xf32, #gpu.address_space<workgroup>>
    %Qt = memref.memory_space_cast %Qtw : memref<${DKP}x68xf32, #gpu.address_space<workgroup>> to memref<${DKP}x68xf32, 3>
    %Ktw = memref.view %smem[%oKt][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<${DKP}x68xf32, #gpu.address_space<workgroup>>
    %Kt = memref.memory_space_cast %Ktw : memref<${DKP}x68xf32, #gpu.address_space<workgroup>> to memref<${DKP}x68xf32, 3>
    %Vsw = memref.view %smem[%oV][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x64xf32, #gpu.address_space<workgroup>>
    %Vs = memref.memory_space_cast %Vsw : memref<64x64xf32, #gpu.address_space<workgroup>> to memref<64x64xf32, 3>
    %Ssw = memref.view %smem[%oS][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<${DKP}x64xf32, #gpu.address_space<workgroup>>
    %Ss = memref.memory_space_cast %Ssw : memref<${DKP}x64xf32, #gpu.address_space<workgroup>> to memref<${DKP}x64xf32, 3>
    %Asw = memref.view %smem[%oA][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x68xf32, #gpu.address_space<workgroup>>
    %As = memref.memory_space_cast %Asw : memref<64x68xf32, #gpu.address_space<workgroup>> to memref<64x68xf32, 3>
    %zsw = memref.view %smem[%oZ][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<${DKP}xf32, #gpu.address_space<workgroup>>
    %zs = memref.memory_space_cast %zsw : memref<${DKP}xf32, #gpu.address_space<workgroup>> to memref<${DKP}xf32, 3>
    %densw = memref.view %smem[%oDen][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %dens = memref.memory_space_cast %densw : memref<64xf32, #gpu.address_space<workgroup>> to memref<64xf32, 3>
    %gsw = memref.view %smem[%oG][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %gs = memref.memory_space_cast %gsw : memref<64xf32, #gpu.address_space<workgroup>> to memref<64xf32, 3>
    %wsw = memref.view %smem[%oW][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %ws = memref.memory_space_cast %wsw : memref<64xf32, #gpu.address_space<workgroup>> to memref<64xf32, 3>

    %B = memref.dim %q, %c0 : ${GT}
    %H = memref.dim %q, %c1 : ${GT}
    %S = memref.dim %q, %c2 : ${GT}
    %Dv = memref.dim %v, %c3 : ${GT}
    %bh = gpu.block_id x
    %slice = gpu.block_id y
    %e0 = arith.muli %slice, %c64 : index
    %BH = arith.muli %B, %H : index
    %p0 = arith.cmpi ult, %bh, %BH : index
    %p1 = arith.cmpi ult, %e0, %Dv : index
    %p2 = arith.cmpi ugt, %S, %c0 : index
    %p01 = arith.andi %p0, %p1 : i1
    %live = arith.andi %p01, %p2 : i1
    scf.if %live {
      %b = arith.divui %bh, %H : index
      %h = arith.remui %bh, %H : index
      %tid = gpu.thread_id x
      %ti = arith.divui %tid, %c16 : index
      %tj = arith.remui %tid, %c16 : index
      %r0 = arith.muli %ti, %c4 : index
      %r1 = arith.addi %r0, %c1 : index
      %r2 = arith.addi %r0, %c2 : index
      %r3 = arith.addi %r0, %c3 : index
      %cc = arith.muli %tj, %c4 : index
      %Sm1 = arith.subi %S, %c1 : index
      %Dvm1 = arith.subi %Dv, %c1 : index
${DECAY}
      %negl = arith.negf %lambda : f32
      %nlC = arith.mulf %negl, %f64 : f32
      %decC = math.exp %nlC : f32
      %nchunks = arith.ceildivui %S, %c64 : index
      %twice = arith.muli %nchunks, %c2 : index
      %steps = arith.select %causal, %nchunks, %twice : index

      // The state and the key sum start at zero.
      scf.for %x = %tid to %cSN step %c256 {
        %d = arith.divui %x, %c64 : index
        %e = arith.remui %x, %c64 : index
        memref.store %f0, %Ss[%d, %e] : memref<${DKP}x64xf32, 3>
      }
      scf.for %x = %tid to %cDKP step %c256 {
        memref.store %f0, %zs[%x] : memref<${DKP}xf32, 3>
      }
      %tidlt64 = arith.cmpi ult, %tid, %c64 : index
      scf.if %tidlt64 {
        %tf = arith.index_cast %tid : index to i32
        %tff = arith.sitofp %tf : i32 to f32
        %ga = arith.mulf %negl, %tff : f32
        %g = math.exp %ga : f32
        memref.store %g, %gs[%tid] : memref<64xf32, 3>
        %rem = arith.subf %f64, %tff : f32
        %wa = arith.mulf %negl, %rem : f32
        %w = math.exp %wa : f32
        memref.store %w, %ws[%tid] : memref<64xf32, 3>
      }

      // Causal: step t = chunk t, its outputs then its state update.
      // Otherwise steps 0..n-1 accumulate the state over all chunks and steps
      // n..2n-1 write the outputs of chunk t - n.
      scf.for %t = %c0 to %steps step %c1 {
        %second = arith.cmpi uge, %t, %nchunks : index
        %tmn = arith.subi %t, %nchunks : index
        %chunk = arith.select %second, %tmn, %t : index
        %first = arith.xori %second, %causal : i1
        %isOut = arith.ori %causal, %second : i1
        %notSecond = arith.cmpi ult, %t, %nchunks : index
        %isUpd = arith.ori %causal, %notSecond : i1
        %s0 = arith.muli %chunk, %c64 : index
        gpu.barrier

        // Load phi(q), phi(k) (transposed) and the v slice, zero out of range.
        scf.for %x = %tid to %cQK step %c256 {
          %row = arith.divui %x, %cDKP : index
          %col = arith.remui %x, %cDKP : index
          %s = arith.addi %s0, %row : index
          %sok = arith.cmpi ult, %s, %S : index
          %dok = arith.cmpi ult, %col, %cDK : index
          %ok = arith.andi %sok, %dok : i1
          %sc = arith.minui %s, %Sm1 : index
          %dc = arith.minui %col, %cDKm1 : index
          %qr = memref.load %q[%b, %h, %sc, %dc] : ${GT}
          %kr = memref.load %k[%b, %h, %sc, %dc] : ${GT}
          %qx = ${EXT_Q}
          %kx = ${EXT_K}
          %qpos = arith.cmpf ogt, %qx, %f0 : f32
          %kpos = arith.cmpf ogt, %kx, %f0 : f32
          %qrelu = arith.select %qpos, %qx, %f0 : f32
          %krelu = arith.select %kpos, %kx, %f0 : f32
          %qp1 = arith.addf %qx, %f1 : f32
          %kp1 = arith.addf %kx, %f1 : f32
          %qe = math.exp %qx : f32
          %ke = math.exp %kx : f32
          %qelu = arith.select %qpos, %qp1, %qe : f32
          %kelu = arith.select %kpos, %kp1, %ke : f32
          %qa = arith.select %fmRelu, %qrelu, %qx : f32
          %ka = arith.select %fmRelu, %krelu, %kx : f32
          %qb = arith.select %fmElu, %qelu, %qa : f32
          %kb = arith.select %fmElu, %kelu, %ka : f32
          %qv = arith.select %ok, %qb, %f0 : f32
          %kv = arith.select %ok, %kb, %f0 : f32
          memref.store %qv, %Qt[%col, %row] : memref<${DKP}x68xf32, 3>
          memref.store %kv, %Kt[%col, %row] : memref<${DKP}x68xf32, 3>
        }
        scf.for %x = %tid to %c4096 step %c256 {
          %row = arith.divui %x, %c64 : index
          %col = arith.remui %x, %c64 : index
          %s = arith.addi %s0, %row : index
          %e = arith.addi %e0, %col : index
          %sok = arith.cmpi ult, %s, %S : index
          %eok = arith.cmpi ult, %e, %Dv : index
          %ok = arith.andi %sok, %eok : i1
          %sc = arith.minui %s, %Sm1 : index
          %ec = arith.minui %e, %Dvm1 : index
          %vr = memref.load %v[%b, %h, %sc, %ec] : ${GT}
          %vx = ${EXT_V}
          %vv = arith.select %ok, %vx, %f0 : f32
          memref.store %vv, %Vs[%row, %col] : memref<64x64xf32, 3>
        }
        gpu.barrier

        scf.if %isOut {
          scf.if %causal {
            // As[i][j] = scale * phi(q_i).phi(k_j) * exp(-lambda (i - j)) for
            // j <= i, else 0; this thread: rows r0..r0+3, columns cc..cc+3.
            %a:4 = scf.for %d = %c0 to %cDKP step %c1
                iter_args(%a0 = %v0, %a1 = %v0, %a2 = %v0, %a3 = %v0)
                -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
              %qv = vector.load %Qt[%d, %r0] : memref<${DKP}x68xf32, 3>, vector<4xf32>
              %kv = vector.load %Kt[%d, %cc] : memref<${DKP}x68xf32, 3>, vector<4xf32>
              %q0 = vector.extract %qv[0] : f32 from vector<4xf32>
              %q1 = vector.extract %qv[1] : f32 from vector<4xf32>
              %q2 = vector.extract %qv[2] : f32 from vector<4xf32>
              %q3 = vector.extract %qv[3] : f32 from vector<4xf32>
              %b0 = vector.broadcast %q0 : f32 to vector<4xf32>
              %b1 = vector.broadcast %q1 : f32 to vector<4xf32>
              %b2 = vector.broadcast %q2 : f32 to vector<4xf32>
              %b3 = vector.broadcast %q3 : f32 to vector<4xf32>
              %n0 = vector.fma %b0, %kv, %a0 : vector<4xf32>
              %n1 = vector.fma %b1, %kv, %a1 : vector<4xf32>
              %n2 = vector.fma %b2, %kv, %a2 : vector<4xf32>
              %n3 = vector.fma %b3, %kv, %a3 : vector<4xf32>
              scf.yield %n0, %n1, %n2, %n3 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
            }
            %ccf0 = arith.index_cast %cc : index to i32
            %ccf = arith.sitofp %ccf0 : i32 to f32
            %ccb = vector.broadcast %ccf : f32 to vector<4xf32>
            %jv = arith.addf %ccb, %iota : vector<4xf32>
            %scv = vector.broadcast %scale : f32 to vector<4xf32>
            %nlv = vector.broadcast %negl : f32 to vector<4xf32>
${AROWS}
            gpu.barrier
          }
          scf.if %normalize {
            // dens[i] = sum_j As[i][j] + scale g_i phi(q_i).z
            scf.if %tidlt64 {
              %sa = scf.for %j = %c0 to %intraN step %c1 iter_args(%acc = %f0) -> (f32) {
                %x = memref.load %As[%tid, %j] : memref<64x68xf32, 3>
                %n = arith.addf %acc, %x : f32
                scf.yield %n : f32
              }
              %sq = scf.for %d = %c0 to %cDKP step %c1 iter_args(%acc = %f0) -> (f32) {
                %x = memref.load %Qt[%d, %tid] : memref<${DKP}x68xf32, 3>
                %z = memref.load %zs[%d] : memref<${DKP}xf32, 3>
                %n = math.fma %x, %z, %acc : f32
                scf.yield %n : f32
              }
              %g = memref.load %gs[%tid] : memref<64xf32, 3>
              %sg = arith.mulf %scale, %g : f32
              %inter = arith.mulf %sg, %sq : f32
              %den = arith.addf %sa, %inter : f32
              %dene = arith.addf %den, %eps : f32
              memref.store %dene, %dens[%tid] : memref<64xf32, 3>
            }
            gpu.barrier
          }
          // Outputs rows r0..r0+3, columns cc..cc+3 of the slice:
          // intra = As V, inter = phi(Q) Ss.
          %oi:4 = scf.for %j = %c0 to %intraN step %c1
              iter_args(%a0 = %v0, %a1 = %v0, %a2 = %v0, %a3 = %v0)
              -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
            %vv = vector.load %Vs[%j, %cc] : memref<64x64xf32, 3>, vector<4xf32>
            %w0 = memref.load %As[%r0, %j] : memref<64x68xf32, 3>
            %w1 = memref.load %As[%r1, %j] : memref<64x68xf32, 3>
            %w2 = memref.load %As[%r2, %j] : memref<64x68xf32, 3>
            %w3 = memref.load %As[%r3, %j] : memref<64x68xf32, 3>
            %b0 = vector.broadcast %w0 : f32 to vector<4xf32>
            %b1 = vector.broadcast %w1 : f32 to vector<4xf32>
            %b2 = vector.broadcast %w2 : f32 to vector<4xf32>
            %b3 = vector.broadcast %w3 : f32 to vector<4xf32>
            %n0 = vector.fma %b0, %vv, %a0 : vector<4xf32>
            %n1 = vector.fma %b1, %vv, %a1 : vector<4xf32>
            %n2 = vector.fma %b2, %vv, %a2 : vector<4xf32>
            %n3 = vector.fma %b3, %vv, %a3 : vector<4xf32>
            scf.yield %n0, %n1, %n2, %n3 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
          }
          %p:4 = scf.for %d = %c0 to %cDKP step %c1
              iter_args(%a0 = %v0, %a1 = %v0, %a2 = %v0, %a3 = %v0)
              -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
            %qv = vector.load %Qt[%d, %r0] : memref<${DKP}x68xf32, 3>, vector<4xf32>
            %sv = vector.load %Ss[%d, %cc] : memref<${DKP}x64xf32, 3>, vector<4xf32>
            %q0 = vector.extract %qv[0] : f32 from vector<4xf32>
            %q1 = vector.extract %qv[1] : f32 from vector<4xf32>
            %q2 = vector.extract %qv[2] : f32 from vector<4xf32>
            %q3 = vector.extract %qv[3] : f32 from vector<4xf32>
            %b0 = vector.broadcast %q0 : f32 to vector<4xf32>
            %b1 = vector.broadcast %q1 : f32 to vector<4xf32>
            %b2 = vector.broadcast %q2 : f32 to vector<4xf32>
            %b3 = vector.broadcast %q3 : f32 to vector<4xf32>
            %n0 = vector.fma %b0, %sv, %a0 : vector<4xf32>
            %n1 = vector.fma %b1, %sv, %a1 : vector<4xf32>
            %n2 = vector.fma %b2, %sv, %a2 : vector<4xf32>
            %n3 = vector.fma %b3, %sv, %a3 : vector<4xf32>
            scf.yield %n0, %n1, %n2, %n3 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
          }
          %ecol = arith.addi %e0, %cc : index
          %left = arith.subi %Dv, %ecol : index
          %leftp = arith.maxsi %left, %c0 : index
          %ncol = arith.minsi %leftp, %c4 : index
${OROWS}
        }

        scf.if %isUpd {
          gpu.barrier
          // Ss = exp(-64 lambda) Ss + sum_j ws[j] phi(k_j) v_j^T over the
          // rows d = 64 rb + r0 .. r0+3, columns cc..cc+3 of this thread.
          scf.for %rb = %c0 to %cDKP step %c64 {
            %d0 = arith.addi %rb, %r0 : index
            %d1 = arith.addi %rb, %r1 : index
            %d2 = arith.addi %rb, %r2 : index
            %d3 = arith.addi %rb, %r3 : index
            %u:4 = scf.for %j = %c0 to %c64 step %c1
                iter_args(%a0 = %v0, %a1 = %v0, %a2 = %v0, %a3 = %v0)
                -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
              %vv0 = vector.load %Vs[%j, %cc] : memref<64x64xf32, 3>, vector<4xf32>
              %wj = memref.load %ws[%j] : memref<64xf32, 3>
              %wb = vector.broadcast %wj : f32 to vector<4xf32>
              %vv = arith.mulf %vv0, %wb : vector<4xf32>
              %k0 = memref.load %Kt[%d0, %j] : memref<${DKP}x68xf32, 3>
              %k1 = memref.load %Kt[%d1, %j] : memref<${DKP}x68xf32, 3>
              %k2 = memref.load %Kt[%d2, %j] : memref<${DKP}x68xf32, 3>
              %k3 = memref.load %Kt[%d3, %j] : memref<${DKP}x68xf32, 3>
              %b0 = vector.broadcast %k0 : f32 to vector<4xf32>
              %b1 = vector.broadcast %k1 : f32 to vector<4xf32>
              %b2 = vector.broadcast %k2 : f32 to vector<4xf32>
              %b3 = vector.broadcast %k3 : f32 to vector<4xf32>
              %n0 = vector.fma %b0, %vv, %a0 : vector<4xf32>
              %n1 = vector.fma %b1, %vv, %a1 : vector<4xf32>
              %n2 = vector.fma %b2, %vv, %a2 : vector<4xf32>
              %n3 = vector.fma %b3, %vv, %a3 : vector<4xf32>
              scf.yield %n0, %n1, %n2, %n3 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
            }
            %decv = vector.broadcast %decC : f32 to vector<4xf32>
${UROWS}
          }
          scf.for %x = %tid to %cDKP step %c256 {
            %sk = scf.for %j = %c0 to %c64 step %c1 iter_args(%acc = %f0) -> (f32) {
              %kx = memref.load %Kt[%x, %j] : memref<${DKP}x68xf32, 3>
              %wj = memref.load %ws[%j] : memref<64xf32, 3>
              %n = math.fma %kx, %wj, %acc : f32
              scf.yield %n : f32
            }
            %zo = memref.load %zs[%x] : memref<${DKP}xf32, 3>
            %zn = math.fma %zo, %decC, %sk : f32
            memref.store %zn, %zs[%x] : memref<${DKP}xf32, 3>
          }
        }
      }
    }
    gpu.return
  }
}
)mlir";

/// What one instantiation of the recipe is fixed to.
struct LinearAttentionConfig {
  std::string elementType; // "bf16", "f16" or "f32"
  int64_t dk = 0;
  bool causal = false, normalize = false;
  loom::FeatureMap featureMap = loom::FeatureMap::Identity;
  SmallVector<float> decay; // empty: no decay
  /// q, k, v and the result are strided views (unit stride in D): a fusion
  /// group's layout changes between [S, H*D] and [B, H, S, D] read and
  /// written in place.
  bool strided = false;

  /// The kernel's type for q, k, v and the result.
  std::string globalType() const {
    return "memref<?x?x?x?x" + elementType +
           (strided ? ", strided<[?, ?, ?, 1], offset: ?>>" : ">");
  }

  int64_t paddedDk() const { return (dk + 63) / 64 * 64; }

  /// Byte offsets of the shared-memory arrays, in the order Qt, Kt, Vs, Ss,
  /// As, zs, dens, gs, ws; the last entry is the total.
  SmallVector<int64_t> sharedOffsets() const {
    int64_t p = paddedDk();
    int64_t sizes[] = {p * 68 * 4, p * 68 * 4, 64 * 64 * 4, p * 64 * 4,
                       64 * 68 * 4, p * 4, 64 * 4, 64 * 4, 64 * 4};
    SmallVector<int64_t> offsets = {0};
    for (int64_t s : sizes)
      offsets.push_back(offsets.back() + s);
    return offsets;
  }
  int64_t sharedMemoryBytes() const { return sharedOffsets().back(); }

  /// A name that encodes every substituted value (decay as its f32 bits).
  std::string kernelName() const {
    std::ostringstream os;
    os << "loom_linear_attention_" << elementType << "_dk" << dk
       << (causal ? "_causal" : "") << (normalize ? "_norm" : "") << "_"
       << loom::stringifyFeatureMap(featureMap).str()
       << (strided ? "_strided" : "");
    if (!decay.empty()) {
      os << "_decay";
      for (float d : decay) {
        uint32_t bits;
        std::memcpy(&bits, &d, sizeof(bits));
        os << "_" << llvm::utohexstr(bits, /*LowerCase=*/true, /*Width=*/8);
      }
    }
    return os.str();
  }
};

std::string f32Literal(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return "0x" + llvm::utohexstr(bits, /*LowerCase=*/false, /*Width=*/8);
}

/// The recipe's substitutions for `c`.
SmallVector<std::pair<StringRef, std::string>>
substitutions(const LinearAttentionConfig &c) {
  const std::string &t = c.elementType;
  bool f32 = t == "f32";
  int64_t p = c.paddedDk();
  SmallVector<int64_t> off = c.sharedOffsets();
  auto ext = [&](const char *src) {
    return f32 ? std::string("arith.bitcast ") + src + " : f32 to f32"
               : std::string("arith.extf ") + src + " : " + t + " to f32";
  };
  std::ostringstream decay, aRows, oRows, uRows;
  // lambda = decay[min(h, last)] as a chain of selects (0 without decay).
  if (c.decay.empty()) {
    decay << "      %lambda = arith.constant 0.0 : f32\n";
  } else {
    decay << "      %cLH = arith.constant " << c.decay.size() - 1 << " : index\n"
          << "      %hcl = arith.minui %h, %cLH : index\n";
    std::string prev;
    for (size_t i = 0; i < c.decay.size(); ++i) {
      decay << "      %lamc" << i << " = arith.constant "
            << f32Literal(c.decay[i]) << " : f32\n";
      if (i == 0) {
        prev = "%lamc0";
        continue;
      }
      decay << "      %hc" << i << " = arith.constant " << i << " : index\n"
            << "      %he" << i << " = arith.cmpi eq, %hcl, %hc" << i
            << " : index\n"
            << "      %lams" << i << " = arith.select %he" << i << ", %lamc"
            << i << ", " << prev << " : f32\n";
      prev = "%lams" + std::to_string(i);
    }
    decay << "      %lambda = arith.addf " << prev << ", %f0 : f32\n";
  }
  std::string smemS = "memref<" + std::to_string(p) + "x64xf32, 3>";
  for (int a = 0; a < 4; ++a) {
    // The weights of row r0 + a (causal only).
    aRows << "            %ri" << a << " = arith.index_cast %r" << a
          << " : index to i32\n"
          << "            %rf" << a << " = arith.sitofp %ri" << a
          << " : i32 to f32\n"
          << "            %rb" << a << " = vector.broadcast %rf" << a
          << " : f32 to vector<4xf32>\n"
          << "            %dist" << a << " = arith.subf %rb" << a
          << ", %jv : vector<4xf32>\n"
          << "            %ex" << a << " = arith.mulf %nlv, %dist" << a
          << " : vector<4xf32>\n"
          << "            %dc" << a << " = math.exp %ex" << a
          << " : vector<4xf32>\n"
          << "            %sw" << a << " = arith.mulf %a#" << a
          << ", %scv : vector<4xf32>\n"
          << "            %dw" << a << " = arith.mulf %sw" << a << ", %dc" << a
          << " : vector<4xf32>\n"
          << "            %vis" << a << " = arith.cmpf oge, %dist" << a
          << ", %v0 : vector<4xf32>\n"
          << "            %m" << a << " = arith.select %vis" << a << ", %dw"
          << a << ", %v0 : vector<4xi1>, vector<4xf32>\n"
          << "            vector.store %m" << a << ", %As[%r" << a
          << ", %cc] : memref<64x68xf32, 3>, vector<4xf32>\n";
    // Output row r0 + a: intra + scale g inter, normalized, masked store.
    oRows << "          %g" << a << " = memref.load %gs[%r" << a
          << "] : memref<64xf32, 3>\n"
          << "          %sg" << a << " = arith.mulf %scale, %g" << a
          << " : f32\n"
          << "          %sgv" << a << " = vector.broadcast %sg" << a
          << " : f32 to vector<4xf32>\n"
          << "          %ox" << a << " = vector.fma %sgv" << a << ", %p#" << a
          << ", %oi#" << a << " : vector<4xf32>\n";
    std::string fin = "%ox" + std::to_string(a);
    if (c.normalize) {
      oRows << "          %dn" << a << " = memref.load %dens[%r" << a
            << "] : memref<64xf32, 3>\n"
            << "          %dnv" << a << " = vector.broadcast %dn" << a
            << " : f32 to vector<4xf32>\n"
            << "          %of" << a << " = arith.divf %ox" << a << ", %dnv" << a
            << " : vector<4xf32>\n";
      fin = "%of" + std::to_string(a);
    }
    if (f32)
      oRows << "          %cv" << a << " = arith.bitcast " << fin
            << " : vector<4xf32> to vector<4xf32>\n";
    else
      oRows << "          %cv" << a << " = arith.truncf " << fin
            << " : vector<4xf32> to vector<4x" << t << ">\n";
    oRows << "          %srow" << a << " = arith.addi %s0, %r" << a
          << " : index\n"
          << "          %rok" << a << " = arith.cmpi ult, %srow" << a
          << ", %S : index\n"
          << "          %nc" << a << " = arith.select %rok" << a
          << ", %ncol, %c0 : index\n"
          << "          %mk" << a << " = vector.create_mask %nc" << a
          << " : vector<4xi1>\n"
          << "          vector.maskedstore %out[%b, %h, %srow" << a
          << ", %ecol], %mk" << a << ", %cv" << a << " : " << c.globalType()
          << ", vector<4xi1>, vector<4x" << t << ">\n";
    // State rows 64 rb + r0 + a.
    uRows << "            %so" << a << " = vector.load %Ss[%d" << a
          << ", %cc] : " << smemS << ", vector<4xf32>\n"
          << "            %sn" << a << " = vector.fma %so" << a << ", %decv, %u#"
          << a << " : vector<4xf32>\n"
          << "            vector.store %sn" << a << ", %Ss[%d" << a
          << ", %cc] : " << smemS << ", vector<4xf32>\n";
  }
  auto str = [](int64_t v) { return std::to_string(v); };
  return {{"NAME", c.kernelName()},
          {"T", t},
          {"GT", c.globalType()},
          {"DK", str(c.dk)},
          {"DKM1", str(c.dk - 1)},
          {"DKP", str(p)},
          {"QKN", str(64 * p)},
          {"SN", str(64 * p)},
          {"CAUSAL", c.causal ? "true" : "false"},
          {"NORMALIZE", c.normalize ? "true" : "false"},
          {"RELU", c.featureMap == loom::FeatureMap::Relu ? "true" : "false"},
          {"ELU", c.featureMap == loom::FeatureMap::EluPlusOne ? "true"
                                                               : "false"},
          {"OFF_KT", str(off[1])},
          {"OFF_V", str(off[2])},
          {"OFF_S", str(off[3])},
          {"OFF_A", str(off[4])},
          {"OFF_Z", str(off[5])},
          {"OFF_DEN", str(off[6])},
          {"OFF_G", str(off[7])},
          {"OFF_W", str(off[8])},
          {"DECAY", decay.str()},
          {"EXT_Q", ext("%qr")},
          {"EXT_K", ext("%kr")},
          {"EXT_V", ext("%vr")},
          {"AROWS", aRows.str()},
          {"OROWS", oRows.str()},
          {"UROWS", uRows.str()}};
}

/// The kernel for `op`, or nothing when the op is outside the recipe's reach.
std::optional<LinearAttentionConfig>
selectKernel(loom::LinearAttentionOp op, const loom::gpu::Target &target) {
  auto qType = dyn_cast<RankedTensorType>(op.getQ().getType());
  auto kType = dyn_cast<RankedTensorType>(op.getK().getType());
  auto vType = dyn_cast<RankedTensorType>(op.getV().getType());
  auto rType = dyn_cast<RankedTensorType>(op.getType());
  if (!qType || !kType || !vType || !rType)
    return std::nullopt;
  for (RankedTensorType ty : {qType, kType, vType, rType})
    if (ty.getRank() != 4)
      return std::nullopt;
  Type element = qType.getElementType();
  for (RankedTensorType ty : {kType, vType, rType})
    if (ty.getElementType() != element)
      return std::nullopt;
  LinearAttentionConfig c;
  if (element.isBF16())
    c.elementType = "bf16";
  else if (element.isF16())
    c.elementType = "f16";
  else if (element.isF32())
    c.elementType = "f32";
  else
    return std::nullopt;
  // Dk static (q's or k's; the verifier makes them agree).
  c.dk = qType.isDynamicDim(3) ? kType.getDimSize(3) : qType.getDimSize(3);
  if (ShapedType::isDynamic(c.dk) || c.dk <= 0)
    return std::nullopt;
  std::optional<loom::FeatureMap> fm = op.getFeatureMapKind();
  if (!fm)
    return std::nullopt;
  c.featureMap = *fm;
  c.causal = op.getCausal();
  c.normalize = op.getNormalize();
  if (std::optional<ArrayRef<float>> decay = op.getDecay()) {
    if (!c.causal)
      return std::nullopt; // unverified
    c.decay.assign(decay->begin(), decay->end());
  }
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return std::nullopt;
  return c;
}

using loom::gpu::dim;
using loom::gpu::indexConst;

/// What a fusion group gives the kernel instead of the op's own tensors
/// (as for attention): q, k, v and the result as strided views of the
/// group's buffers, and the op whose result the launch replaces (the last
/// layout change of the result) with the buffer it reads.
struct FusedViews {
  Value q, k, v, o, out;
  Operation *replaced = nullptr;
};

LogicalResult rewrite(loom::LinearAttentionOp op,
                      const LinearAttentionConfig &c, ModuleOp module,
                      const FusedViews *views = nullptr) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto rType = cast<RankedTensorType>(op.getType());
  FailureOr<SymbolRefAttr> kernel = loom::gpu::instantiateKernel(
      module, loc, c.kernelName(), kRecipe, substitutions(c));
  if (failed(kernel))
    return failure();
  float scale = op.getScale() ? op.getScale()->convertToFloat() : 1.0f;
  Value scaleArg = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale));
  if (views) {
    // Static sizes (the group's chains are static).
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    Value sizes[4] = {indexConst(b, loc, qType.getDimSize(0)),
                      indexConst(b, loc, qType.getDimSize(1)),
                      indexConst(b, loc, qType.getDimSize(2)),
                      indexConst(b, loc, rType.getDimSize(3))};
    loom::gpu::launchPerHead(b, loc, views->replaced, *kernel, sizes[0],
                             sizes[1], sizes[3], 64, 256, c.sharedMemoryBytes(),
                             {views->q, views->k, views->v, views->o, scaleArg},
                             views->out);
    return success();
  }

  // Result [B, H, S, Dv]: B, H, S those of q, Dv that of v.
  Value sizes[4] = {dim(b, loc, op.getQ(), 0), dim(b, loc, op.getQ(), 1),
                    dim(b, loc, op.getQ(), 2), dim(b, loc, op.getV(), 3)};
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 4; ++i)
    if (rType.isDynamicDim(i))
      dynSizes.push_back(sizes[i]);
  SmallVector<Value> args = {loom::gpu::bufferOf(b, loc, op.getQ()),
                             loom::gpu::bufferOf(b, loc, op.getK()),
                             loom::gpu::bufferOf(b, loc, op.getV())};
  Value out = loom::gpu::allocBuffer(b, loc, rType, dynSizes);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  args.push_back(scaleArg);

  // Grid (max(B * H, 1), max(ceil(Dv / 64), 1)): never empty; the kernel
  // returns at once for a CTA outside the sizes (or S = 0).
  loom::gpu::launchPerHead(b, loc, op, *kernel, sizes[0], sizes[1], sizes[3],
                           64, 256, c.sharedMemoryBytes(), args, out);
  return success();
}

} // namespace

LogicalResult loom::rewriteLinearAttentionOps(ModuleOp module,
                                              const gpu::Target &target) {
  SmallVector<loom::LinearAttentionOp> ops;
  module.walk([&](loom::LinearAttentionOp op) {
    if (op->getParentOfType<func::FuncOp>())
      ops.push_back(op);
  });
  for (loom::LinearAttentionOp op : ops) {
    std::optional<LinearAttentionConfig> config = selectKernel(op, target);
    if (!config)
      continue; // generic path
    if (failed(rewrite(op, *config, module)))
      return failure();
  }
  return success();
}

FailureOr<bool> loom::gpu::rewriteLinearAttentionGroup(Operation *anchor,
                                                       const Target &target) {
  auto op = dyn_cast<loom::LinearAttentionOp>(anchor);
  if (!op)
    return false;
  std::optional<LinearAttentionConfig> config = selectKernel(op, target);
  std::optional<OperandChain> q = traceOperand(op.getQ(), false),
                              k = traceOperand(op.getK(), false),
                              v = traceOperand(op.getV(), false);
  std::optional<ResultChain> o = traceResult(op);
  if (!config || !q || !k || !v || !o)
    return false;
  config->strided = true;
  OpBuilder b(op);
  Location loc = op.getLoc();
  FusedViews views;
  views.q = viewOf(b, loc, *q);
  views.k = viewOf(b, loc, *k);
  views.v = viewOf(b, loc, *v);
  views.replaced = o->last;
  views.out = allocBuffer(
      b, loc, cast<RankedTensorType>(o->last->getResult(0).getType()), {});
  views.o = outputView(b, loc, views.out, *o);
  if (failed(rewrite(op, *config, op->getParentOfType<ModuleOp>(), &views)))
    return failure();
  eraseFusedChains(op, *o, {*q, *k, *v});
  return true;
}
