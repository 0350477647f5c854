//===- AsanOptions.cpp - ASan defaults of every fuzz target ---------------===//
//
// Linked into every fuzz target, so that a reproducer replays with the same
// options as scripts/fuzz.sh runs it.
//
//===----------------------------------------------------------------------===//

/// allow_user_poisoning=0: MLIR's storage uniquer bump-allocates attribute
/// and type storage both from Loom's instrumented code (the storage classes
/// ODS generates for Loom's attributes, through inline headers) and from
/// libMLIR.so, which is not instrumented. A slab that Loom's inline
/// BumpPtrAllocator::AllocateSlow obtains is poisoned whole (LLVM's
/// allocator unpoisons each piece as it hands it out), and libMLIR then hands
/// out pieces of it without unpoisoning them, so its own memmove into its own
/// fresh storage reads as "use-after-poison" (found by the parse and CPU
/// pipeline targets on the first seed with a #loom.target). Ignoring manual
/// poisoning keeps every real check (heap redzones, use-after-free, leaks);
/// it only drops the intra-slab checks that cannot be right in a mixed build.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
