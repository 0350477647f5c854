/* The Loom ABI around a GPU module lowered by MLIR's gpu-to-llvm (Inputs/gpu_to_llvm.mlir), for the runtime tests. */
/*
 * What loom-compile generates for a GPU module besides the lowered host code:
 * the signature and the packed entry wrapper calling _mlir_ciface_<name>.
 */
#include <stdint.h>

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} Desc1;

/* From the lowered MLIR (llvm.emit_c_interface). */
void _mlir_ciface_scale(Desc1 *result, Desc1 *x);

const char *loom_module_signature(void) {
  return "abi 1\ntarget sm_90a\nentry scale(tensor<?xf32>) -> "
         "(tensor<?xf32>)\n";
}

void loom_entry_scale(void **args) {
  _mlir_ciface_scale((Desc1 *)args[0], (Desc1 *)args[1]);
}
