//===- Passes.h - loom-gpu-kernels -----------------------------------------*- C++ -*-===//

#ifndef LOOM_CONVERSION_LOOMTOGPU_PASSES_H
#define LOOM_CONVERSION_LOOMTOGPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace loom {

#define GEN_PASS_DECL
#include "loom/Conversion/LoomToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "loom/Conversion/LoomToGPU/Passes.h.inc"

} // namespace loom

#endif // LOOM_CONVERSION_LOOMTOGPU_PASSES_H
