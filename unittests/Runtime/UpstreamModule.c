/* The Loom ABI around a GPU module lowered by MLIR's gpu-to-llvm (Inputs/gpu_to_llvm.mlir), for the runtime tests. */
/*
 * What loom-compile generates for a GPU module besides the lowered host code:
 * the signature and the entry wrapper (ABI 3: argument count and size checks,
 * then _mlir_ciface_<name>).
 */
#include "IntegrityNote.h"

#include <stdint.h>

/* The integrity record, sealed after linking (loom-test-seal). */
__asm__(LOOM_INTEGRITY_NOTE_ASM);

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
  return "abi 3\ntarget sm_90a\nentry scale(tensor<?xf32>) -> "
         "(tensor<?xf32>)\n";
}

const char *loom_entry_scale(void **args, int64_t nargs) {
  if (nargs != 1)
    return "scale: called with the wrong number of arguments (it takes 1)";
  if (((const Desc1 *)args[1])->sizes[0] < 0)
    return "scale: argument 0 dimension 0 (?) must not be negative";
  _mlir_ciface_scale((Desc1 *)args[0], (Desc1 *)args[1]);
  return 0;
}
