// loom-test-seal FILE: writes the integrity record of a hand-built test
// module (TestModule.c, UpstreamModule.c), as loom-compile does for its own.

#include "ModuleFile.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: loom-test-seal FILE\n");
    return 2;
  }
  std::string error;
  if (!loom::runtime::sealModuleFile(argv[1], error)) {
    std::fprintf(stderr, "loom-test-seal: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
