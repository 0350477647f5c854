//===- Mma.h - warp-level matrix products (ldmatrix, mma.sync) ---*- C++ -*-===//
//
// The register-level form of the tensor cores' warp-wide products, shared by
// every kernel that uses them. Fragments are the PTX ISA's ("Matrix
// fragments for mma.m16n8k*"): with g = lane / 4 and q = lane % 4, an
// m16 x n8 accumulator holds (row g, cols 2q, 2q+1) in registers 0, 1 and
// (row g + 8, cols 2q, 2q+1) in registers 2, 3; an A fragment is four 32-bit
// registers, a B fragment two. 32-bit registers of 16-bit types are the
// packed pair (bf16: i32, f16: vector<2xf16>), of 8-bit types four values
// (i32).

#ifndef LOOM_GPU_BUILDER_MMA_H
#define LOOM_GPU_BUILDER_MMA_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

/// The operand types of one mma.sync.
enum class MmaType { BF16, F16, S8 };

/// The 32-bit register type of an `type` operand (f16: vector<2xf16>, else
/// i32).
mlir::Type mmaRegisterType(KernelBuilder &b, MmaType type);

/// ldmatrix of `numTiles` 8x8 matrices of 16-bit (or, read as pairs, 8-bit)
/// elements from the shared buffer `smem` at `indices` (this lane's row
/// address), transposed when asked; `resultType` is vector<numTiles x 2 x T>
/// (vector<numTiles x 4 x i8> for 8-bit data).
mlir::Value ldmatrix(KernelBuilder &b, mlir::Value smem,
                     mlir::ValueRange indices, int64_t numTiles,
                     bool transpose, mlir::VectorType resultType);

/// Register `i` of an ldmatrix result as an mma.sync operand of `type`.
mlir::Value ldmatrixRegister(KernelBuilder &b, mlir::Value ldmatrixResult,
                             int64_t i, MmaType type);

/// `v` (a 32-bit vector such as vector<2xbf16> or vector<4xi8>) as the i32
/// register that holds it.
mlir::Value packRegister(KernelBuilder &b, mlir::Value v);

/// `v`, a 32-bit vector (vector<2xbf16>, vector<2xf16> or vector<4xi8>), as
/// an mma.sync operand of `type`: itself for F16, else the i32 that holds it
/// (packRegister).
mlir::Value mmaOperand(KernelBuilder &b, mlir::Value v, MmaType type);

/// The i32 register `word` (bit tricks and inline assembly produce them) as
/// an mma.sync operand of `type`: the same bits as vector<2xf16> for F16,
/// else `word` itself.
mlir::Value registerOperand(KernelBuilder &b, mlir::Value word, MmaType type);

/// The two e4m3 (f8E4M3FN) values in bits [16 * half, 16 * half + 16) of the
/// i32 `word` (half 0: the low pair) as one F16 operand, the lower value in
/// the low half. NVVM's mma.sync has no fp8 operand types, so fp8 products
/// are multiplied as f16, which is exact: every e4m3 value is an f16, every
/// product of two exact in f32. The conversion is PTX's
/// cvt.rn.f16x2.e4m3x2 (sm_89 and later) through inline assembly, for want
/// of an NVVM op.
mlir::Value fp8PairToF16x2(KernelBuilder &b, mlir::Value word, int64_t half);

/// The f32 values `lo`, `hi` rounded to `type` (BF16 or F16) once and packed
/// as one register (lo in the low half).
mlir::Value packPair(KernelBuilder &b, mlir::Value lo, mlir::Value hi,
                     MmaType type);

/// d = a * b + c with one mma.sync.m16n8kK (row-major A, column-major B;
/// K = 16 for 16-bit types, 32 for s8): `a` four registers, `b` two, `c`
/// four f32 (s32 for S8, with wrapping overflow). Returns d's four registers.
llvm::SmallVector<mlir::Value, 4> mmaSync(KernelBuilder &b, MmaType type,
                                          mlir::ValueRange a,
                                          mlir::ValueRange bRegs,
                                          mlir::ValueRange c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_MMA_H
