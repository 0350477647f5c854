// The pure-data part of loading a compiled module (docs/abi.md), apart from
// dlopen, so that it can be tested and fuzzed without loading code.
//
// Internal to the runtime library, its unit tests and fuzz/.
#ifndef LOOM_LIB_RUNTIME_MODULELOADER_H
#define LOOM_LIB_RUNTIME_MODULELOADER_H

#include "loom/Runtime/Runtime.h"

#include <functional>
#include <string>

namespace loom {
namespace runtime {

/// A symbol of an open module, or null (dlsym for a real one).
using SymbolLookup = std::function<void *(const char *symbol)>;

/// Everything loomModuleLoad does once the file at `file` is open: calls its
/// loom_module_signature (found through `lookup`), parses the signature,
/// checks its target against `device`, and binds every entry to its
/// loom_entry_<name>. Returns a module with no library handle (the caller
/// sets one), or null with loomGetLastError() saying why. `file` names the
/// module in messages.
loomModule *openModule(const std::string &file, loomDevice device,
                       const SymbolLookup &lookup);

} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_MODULELOADER_H
