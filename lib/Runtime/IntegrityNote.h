/* The integrity record of a compiled module, as assembly (docs/abi.md,
   "Integrity record").

   C and C++: loom-compile adds it to every module as module-level inline
   assembly, and the hand-written test modules (unittests/Runtime) add it with
   __asm__. An ELF note in a section of its own, not loaded into memory:

     u32 namesz = 5, u32 descsz = 40, u32 type = 1, "Loom\0" padded to 8,
     desc: u32 version = 1, u32 algorithm = 1 (SHA-256), u8 digest[32]

   The digest is zero here; it is written into the linked file afterwards
   (ModuleFile.h, sealModuleFile), as the SHA-256 of the whole file with the
   32 digest bytes counted as zeros. The section name starting with .note
   makes both GNU as and LLVM's assembler give it the type SHT_NOTE. */
#ifndef LOOM_LIB_RUNTIME_INTEGRITYNOTE_H
#define LOOM_LIB_RUNTIME_INTEGRITYNOTE_H

#define LOOM_INTEGRITY_SECTION ".note.loom.integrity"

#define LOOM_INTEGRITY_NOTE_ASM                                                \
  ".pushsection " LOOM_INTEGRITY_SECTION ",\"\"\n"                             \
  ".balign 4\n"                                                                \
  ".long 5\n"                                                                  \
  ".long 40\n"                                                                 \
  ".long 1\n"                                                                  \
  ".asciz \"Loom\"\n"                                                          \
  ".balign 4\n"                                                                \
  ".long 1\n"                                                                  \
  ".long 1\n"                                                                  \
  ".zero 32\n"                                                                 \
  ".popsection\n"

#endif /* LOOM_LIB_RUNTIME_INTEGRITYNOTE_H */
