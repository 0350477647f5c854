// loom-run: run one entry of a compiled Loom module (or of a .mlir file) on .npy inputs.
//
// loom-run FILE --entry=NAME [--target=cpu|cuda [--chip=sm_NN]]
//          [--input=a.npy]... [--output=o.npy]... [--random-inputs [--seed=N]]
//          [--bench=N]
//
// It links only the Loom runtime and the .npy library (no LLVM, no MLIR), so
// it runs where only a compiled module was copied. A .mlir FILE is compiled
// first by the loom-compile that sits in the same directory as loom-run
// (for --target=cuda with --target=sm_90a, or the --chip given).
// With --target=cuda, inputs are copied to device buffers, the entry runs on
// the GPU (it synchronizes before returning) and results are copied back.
// Every error is one line on stderr and exit status 1; output files are
// written only once everything else has succeeded.

#include "loom/Runtime/Npy.h"
#include "loom/Runtime/Runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace npy = loom::npy;

namespace {

const char *kUsage =
    "usage: loom-run FILE --entry=NAME [--target=cpu|cuda [--chip=sm_NN]]\n"
    "                [--input=a.npy]... [--output=o.npy]... [--random-inputs "
    "[--seed=N]]\n"
    "                [--bench=N]\n"
    "\n"
    "Runs entry NAME of FILE, a module from loom-compile (.so) or a .mlir\n"
    "file (compiled first with the loom-compile beside loom-run).\n"
    "  --input=F        a .npy file for the next argument, in order\n"
    "  --output=F       a .npy file for the next result, in order (none: print\n"
    "                   a summary of every result)\n"
    "  --random-inputs  fill the arguments not given by --input with\n"
    "                   deterministic random values (--seed=N, default 0) in\n"
    "                   the ranges the module records for each argument's role\n"
    "  --bench=N        run N times and print the median time (on cuda after\n"
    "                   one untimed warm-up call)\n"
    "  --target=T       cpu (default) or cuda (device 0, through the CUDA\n"
    "                   driver; the module must have been compiled for sm_NN)\n"
    "  --chip=sm_NN     the GPU a .mlir FILE is compiled for with --target=cuda\n"
    "                   (default sm_90a)\n";

/// Prints "loom-run: <message>" and gives the exit status of a failure.
int fail(const std::string &message) {
  std::fprintf(stderr, "loom-run: %s\n", message.c_str());
  return 1;
}

struct Options {
  std::string file;
  std::string entry;
  std::string target = "cpu";
  std::string chip; // --chip, for compiling a .mlir file for cuda
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  bool randomInputs = false;
  bool seedGiven = false;
  uint64_t seed = 0;
  int64_t bench = 0;
};

bool parseUnsigned(const std::string &text, uint64_t &value) {
  if (text.empty() || text.size() > 19)
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + uint64_t(c - '0');
  }
  return true;
}

/// Returns 0 on success, 1 on a usage error (already reported), or -1 when
/// --help was printed.
int parseOptions(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return -1;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!options.file.empty())
        return fail("more than one FILE given ('" + options.file + "' and '" +
                    arg + "')");
      options.file = arg;
      continue;
    }
    std::string name = arg, value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    auto needValue = [&]() -> bool {
      if (hasValue)
        return true;
      if (i + 1 < argc) {
        value = argv[++i];
        return true;
      }
      return false;
    };
    if (name == "--random-inputs") {
      if (hasValue)
        return fail("--random-inputs takes no value");
      options.randomInputs = true;
    } else if (name == "--entry" || name == "--target" || name == "--input" ||
               name == "--output" || name == "--seed" || name == "--bench" ||
               name == "--chip") {
      if (!needValue())
        return fail(name + " needs a value (" + name + "=...)");
      if (name == "--entry") {
        options.entry = value;
      } else if (name == "--target") {
        options.target = value;
      } else if (name == "--chip") {
        options.chip = value;
      } else if (name == "--input") {
        options.inputs.push_back(value);
      } else if (name == "--output") {
        options.outputs.push_back(value);
      } else if (name == "--seed") {
        if (!parseUnsigned(value, options.seed))
          return fail("--seed needs a non-negative integer, got '" + value +
                      "'");
        options.seedGiven = true;
      } else {
        uint64_t n = 0;
        if (!parseUnsigned(value, n) || n == 0 || n > 1000000000)
          return fail("--bench needs a positive number of runs, got '" +
                      value + "'");
        options.bench = int64_t(n);
      }
    } else {
      return fail("unknown option '" + arg + "' (see loom-run --help)");
    }
  }
  if (options.file.empty())
    return fail("no FILE given (a module from loom-compile or a .mlir file; "
                "see loom-run --help)");
  if (options.entry.empty())
    return fail("no --entry=NAME given");
  if (options.target != "cpu" && options.target != "cuda")
    return fail("unknown --target=" + options.target +
                " (expected cpu or cuda)");
  if (options.seedGiven && !options.randomInputs)
    return fail("--seed needs --random-inputs");
  if (!options.chip.empty()) {
    if (options.target != "cuda")
      return fail("--chip=" + options.chip + " needs --target=cuda");
    if (options.chip.size() < 5 || options.chip.compare(0, 3, "sm_") != 0)
      return fail("--chip needs a CUDA architecture such as sm_90a or sm_80, "
                  "got '" + options.chip + "'");
  }
  return 0;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A temporary directory, removed with what it holds when done.
struct TempDir {
  std::string path;
  std::vector<std::string> files;
  ~TempDir() {
    for (const std::string &f : files)
      unlink(f.c_str());
    if (!path.empty())
      rmdir(path.c_str());
  }
};

/// Compiles `source` with the loom-compile beside this executable into a
/// library in `dir`; its diagnostics go to our stderr, its report nowhere.
bool compileMLIR(const std::string &source, const std::string &target,
                 const std::string &chip, TempDir &dir, std::string &library,
                 std::string &error) {
  if (access(source.c_str(), R_OK) != 0) {
    error = "cannot open '" + source + "': " + std::strerror(errno);
    return false;
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    error = "cannot find loom-run's own path to locate loom-compile: " +
            std::string(std::strerror(errno));
    return false;
  }
  self[n] = '\0';
  std::string compiler = self;
  compiler = compiler.substr(0, compiler.rfind('/') + 1) + "loom-compile";
  if (access(compiler.c_str(), X_OK) != 0) {
    error = "cannot compile '" + source + "': loom-compile not found beside "
            "loom-run (" + compiler + ": " + std::strerror(errno) + ")";
    return false;
  }
  const char *tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") +
                        "/loom-run-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) {
    error = "cannot create a temporary directory (" + pattern +
            "): " + std::strerror(errno);
    return false;
  }
  dir.path = buffer.data();
  library = dir.path + "/module.so";
  dir.files.push_back(library);

  std::string targetFlag =
      "--target=" +
      (target == "cuda" ? (chip.empty() ? std::string("sm_90a") : chip)
                        : std::string("cpu"));
  std::vector<std::string> args = {compiler, source, targetFlag, "-o",
                                   library};
  std::vector<char *> argvC;
  for (std::string &a : args)
    argvC.push_back(a.data());
  argvC.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawn(&pid, compiler.c_str(), &actions, nullptr,
                       argvC.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot run " + compiler + ": " + std::strerror(rc);
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      error = "waiting for loom-compile failed: " +
              std::string(std::strerror(errno));
      return false;
    }
  if (WIFSIGNALED(status)) {
    error = "loom-compile crashed (signal " +
            std::to_string(WTERMSIG(status)) + ") compiling '" + source + "'";
    return false;
  }
  if (WEXITSTATUS(status) != 0) {
    error = "compiling '" + source + "' failed (loom-compile exited with " +
            "status " + std::to_string(WEXITSTATUS(status)) + ")";
    return false;
  }
  return true;
}

npy::ElementKind kindOf(loomDType dtype) {
  switch (dtype) {
  case LOOM_DTYPE_F32:
    return npy::ElementKind::F32;
  case LOOM_DTYPE_F16:
    return npy::ElementKind::F16;
  case LOOM_DTYPE_BF16:
    return npy::ElementKind::BF16;
  case LOOM_DTYPE_F64:
    return npy::ElementKind::F64;
  case LOOM_DTYPE_F8E4M3FN:
    return npy::ElementKind::F8E4M3FN;
  case LOOM_DTYPE_I1:
    return npy::ElementKind::I1;
  case LOOM_DTYPE_I4:
    return npy::ElementKind::I4;
  case LOOM_DTYPE_I8:
    return npy::ElementKind::I8;
  case LOOM_DTYPE_I32:
    return npy::ElementKind::I32;
  case LOOM_DTYPE_I64:
    return npy::ElementKind::I64;
  }
  return npy::ElementKind::F32;
}

std::string typeText(const loomTensorType &type) {
  char text[512];
  loomFormatTensorType(&type, text, sizeof(text));
  return text;
}

/// splitmix64: small, fast and the same on every platform, unlike the
/// standard library's distributions, so that a seed names the same inputs
/// everywhere.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi].
  int64_t integer(int64_t lo, int64_t hi) {
    return lo + int64_t(next() % uint64_t(hi - lo + 1));
  }
};

/// One argument's range from the module's input hints (docs/abi.md, "Input
/// hints"): none (the element type's default), floats in [lo, hi), integers
/// in [lo, hi], or nondecreasing offsets from 0 to hi.
struct Hint {
  enum Kind { None, Float, Integer, Offsets } kind = None;
  double lo = 0, hi = 0;
};

/// The smallest and largest value an integer argument of `dtype` holds.
void integerRange(loomDType dtype, double &lo, double &hi) {
  switch (dtype) {
  case LOOM_DTYPE_I1:
    lo = 0, hi = 1;
    return;
  case LOOM_DTYPE_I4:
    lo = -8, hi = 7;
    return;
  case LOOM_DTYPE_I8:
    lo = -128, hi = 127;
    return;
  case LOOM_DTYPE_I32:
    lo = -2147483648.0, hi = 2147483647.0;
    return;
  default: // i64: exactly representable doubles
    lo = -9007199254740992.0, hi = 9007199254740992.0;
    return;
  }
}

bool isFloatDType(loomDType dtype) {
  return dtype == LOOM_DTYPE_F32 || dtype == LOOM_DTYPE_F16 ||
         dtype == LOOM_DTYPE_BF16 || dtype == LOOM_DTYPE_F64 ||
         dtype == LOOM_DTYPE_F8E4M3FN;
}

/// Reads the hints of entry `name` from `text` (loomModuleInputHints; null
/// for a module without them, which gives no hints) into one Hint per
/// argument. A malformed line, or a hint that does not fit its argument's
/// type, is an error: the module is corrupt.
bool parseHints(const char *text, const std::string &name,
                const loomEntry *entry, std::vector<Hint> &hints,
                std::string &error) {
  int64_t numArgs = loomEntryNumArgs(entry);
  hints.assign(size_t(numArgs), Hint());
  if (!text)
    return true;
  std::string all = text, prefix = "entry " + name + ":";
  size_t start = 0;
  std::string line;
  while (start < all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    if (all.compare(start, prefix.size(), prefix) == 0) {
      line = all.substr(start + prefix.size(), end - start - prefix.size());
      break;
    }
    start = end + 1;
  }
  if (line.empty())
    return true; // no hints for this entry
  auto bad = [&](const std::string &why) {
    error = "malformed input hints for entry '" + name + "' in the module (" +
            why + ")";
    return false;
  };
  std::vector<std::string> fields;
  for (size_t at = 0;;) {
    size_t semi = line.find(';', at);
    fields.push_back(line.substr(at, semi == std::string::npos
                                         ? std::string::npos
                                         : semi - at));
    if (semi == std::string::npos)
      break;
    at = semi + 1;
  }
  if (int64_t(fields.size()) != numArgs)
    return bad(std::to_string(fields.size()) + " hints for " +
               std::to_string(numArgs) + " arguments");
  for (int64_t i = 0; i < numArgs; ++i) {
    std::vector<std::string> words;
    for (size_t at = 0; at < fields[i].size();) {
      size_t next = fields[i].find(' ', at);
      if (next == std::string::npos)
        next = fields[i].size();
      if (next > at)
        words.push_back(fields[i].substr(at, next - at));
      at = next + 1;
    }
    std::string where = "argument " + std::to_string(i);
    auto number = [&](const std::string &word, double &value) {
      char *stop = nullptr;
      errno = 0;
      value = std::strtod(word.c_str(), &stop);
      return !word.empty() && *stop == '\0' && errno == 0 &&
             std::isfinite(value);
    };
    loomTensorType type;
    loomEntryArgType(entry, i, &type);
    Hint &hint = hints[size_t(i)];
    if (words.size() == 1 && words[0] == "-")
      continue;
    if (words.size() == 3 && (words[0] == "f" || words[0] == "i")) {
      if (!number(words[1], hint.lo) || !number(words[2], hint.hi))
        return bad(where + ": a bound is not a finite number");
      if (words[0] == "f") {
        if (!isFloatDType(type.dtype) || !(hint.lo < hint.hi))
          return bad(where + ": a float range of a non-float argument or an "
                             "empty range");
        hint.kind = Hint::Float;
        continue;
      }
      double lo, hi;
      integerRange(type.dtype, lo, hi);
      if (isFloatDType(type.dtype) || hint.lo != std::floor(hint.lo) ||
          hint.hi != std::floor(hint.hi) || hint.lo > hint.hi ||
          hint.lo < lo || hint.hi > hi)
        return bad(where + ": an integer range that is empty or outside " +
                   typeText(type));
      hint.kind = Hint::Integer;
      continue;
    }
    if (words.size() == 2 && words[0] == "offsets") {
      double lo, hi;
      integerRange(type.dtype, lo, hi);
      if (!number(words[1], hint.hi) || hint.hi != std::floor(hint.hi) ||
          hint.hi < 0 || hint.hi > hi || isFloatDType(type.dtype) ||
          type.dtype == LOOM_DTYPE_I1 || type.rank != 1)
        return bad(where + ": offsets that do not fit " + typeText(type));
      hint.kind = Hint::Offsets;
      continue;
    }
    std::string shown;
    for (const std::string &word : words)
      shown += (shown.empty() ? "" : " ") + word;
    return bad(where + ": unknown hint '" + shown + "'");
  }
  return true;
}

/// The random array for argument `index` of `type`: without a hint, floats
/// uniform in [-1, 1), i8/i32/i64 in [-127, 127], i4 in [-8, 7], i1 0 or 1;
/// with one, the hint's range.
bool randomArray(const loomTensorType &type, const Hint &hint, uint64_t seed,
                 int64_t index, npy::Array &array, std::string &error) {
  array.shape.assign(type.dims, type.dims + type.rank);
  for (int64_t d = 0; d < type.rank; ++d)
    if (type.dims[d] == LOOM_DYNAMIC) {
      error = "argument " + std::to_string(index) + " (" + typeText(type) +
              ") has a dynamic dimension: --random-inputs cannot choose its "
              "size; give this argument with --input";
      return false;
    }
  int64_t count = array.numElements();
  if (count < 0) {
    error = "argument " + std::to_string(index) + " is too large";
    return false;
  }
  // Each argument has its own stream, so adding an argument does not change
  // the values of the others.
  Random rng{seed * 0x9E3779B97F4A7C15ull + uint64_t(index) + 1};
  rng.next();
  switch (type.dtype) {
  case LOOM_DTYPE_F32:
  case LOOM_DTYPE_F16:
  case LOOM_DTYPE_BF16:
  case LOOM_DTYPE_F64:
  case LOOM_DTYPE_F8E4M3FN: {
    array.dtype = npy::DType::F64;
    array.data.resize(size_t(count) * 8);
    double lo = hint.kind == Hint::Float ? hint.lo : -1.0;
    double hi = hint.kind == Hint::Float ? hint.hi : 1.0;
    for (int64_t e = 0; e < count; ++e) {
      double v = lo + double(rng.next() >> 11) * 0x1.0p-53 * (hi - lo);
      std::memcpy(array.data.data() + e * 8, &v, 8);
    }
    return true;
  }
  case LOOM_DTYPE_I1:
  case LOOM_DTYPE_I4:
  case LOOM_DTYPE_I8:
  case LOOM_DTYPE_I32:
  case LOOM_DTYPE_I64:
    break;
  default:
    error = "unsupported dtype";
    return false;
  }
  // Integers: the values first, then their storage.
  std::vector<int64_t> values(static_cast<size_t>(count));
  if (hint.kind == Hint::Offsets) {
    // 0, sorted cut points in [0, hi], hi: a nondecreasing partition of hi
    // rows (parseHints checked that hi fits the type and the rank is 1).
    int64_t total = int64_t(hint.hi);
    for (int64_t e = 1; e + 1 < count; ++e)
      values[size_t(e)] = rng.integer(0, total);
    if (count > 1) {
      std::sort(values.begin() + 1, values.end() - 1);
      values.back() = total;
    }
  } else {
    int64_t lo = -127, hi = 127;
    if (type.dtype == LOOM_DTYPE_I4)
      lo = -8, hi = 7;
    if (hint.kind == Hint::Integer)
      lo = int64_t(hint.lo), hi = int64_t(hint.hi);
    for (int64_t e = 0; e < count; ++e)
      values[size_t(e)] = type.dtype == LOOM_DTYPE_I1 && hint.kind == Hint::None
                              ? int64_t(rng.next() >> 63)
                              : rng.integer(lo, hi);
  }
  switch (type.dtype) {
  case LOOM_DTYPE_I1:
    array.dtype = npy::DType::Bool;
    array.data.resize(size_t(count));
    for (int64_t e = 0; e < count; ++e)
      array.data[e] = uint8_t(values[size_t(e)]);
    return true;
  case LOOM_DTYPE_I4:
  case LOOM_DTYPE_I8:
    array.dtype = npy::DType::I8;
    array.data.resize(size_t(count));
    for (int64_t e = 0; e < count; ++e)
      array.data[e] = uint8_t(int8_t(values[size_t(e)]));
    return true;
  case LOOM_DTYPE_I32:
    array.dtype = npy::DType::I32;
    array.data.resize(size_t(count) * 4);
    for (int64_t e = 0; e < count; ++e) {
      int32_t v = int32_t(values[size_t(e)]);
      std::memcpy(array.data.data() + e * 4, &v, 4);
    }
    return true;
  default:
    array.dtype = npy::DType::I64;
    array.data.resize(size_t(count) * 8);
    std::memcpy(array.data.data(), values.data(), size_t(count) * 8);
    return true;
  }
}

double elementAsDouble(const npy::Array &array, int64_t e) {
  const uint8_t *p = array.data.data() + e * npy::dtypeSize(array.dtype);
  switch (array.dtype) {
  case npy::DType::F16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return npy::f16ToFloat(h);
  }
  case npy::DType::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case npy::DType::F64: {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  case npy::DType::I8:
    return int8_t(*p);
  case npy::DType::U8:
  case npy::DType::Bool:
    return *p;
  case npy::DType::I32: {
    int32_t i;
    std::memcpy(&i, p, 4);
    return i;
  }
  case npy::DType::I64: {
    int64_t i;
    std::memcpy(&i, p, 8);
    return double(i);
  }
  }
  return 0;
}

std::string formatNumber(double v) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

/// A few values, the mean and the largest magnitude of a result.
void printSummary(int64_t index, const loomTensorType &type,
                  const npy::Array &array) {
  std::printf("result %" PRId64 ": %s, shape %s, %s\n", index,
              typeText(type).c_str(), npy::shapeToString(array.shape).c_str(),
              npy::dtypeName(array.dtype));
  int64_t count = array.numElements();
  if (count <= 0) {
    std::printf("  (no elements)\n");
    return;
  }
  const int64_t shown = 8;
  std::string values = "[";
  for (int64_t e = 0; e < count && e < shown; ++e)
    values += (e ? ", " : "") + formatNumber(elementAsDouble(array, e));
  if (count > shown)
    values += ", ... (" + std::to_string(count) + " values)";
  values += "]";
  double sum = 0, absMax = 0;
  bool nan = false;
  for (int64_t e = 0; e < count; ++e) {
    double v = elementAsDouble(array, e);
    if (std::isnan(v))
      nan = true;
    sum += v;
    absMax = std::max(absMax, std::fabs(v));
  }
  std::printf("  values %s\n", values.c_str());
  std::printf("  mean %s, abs-max %s\n", formatNumber(sum / double(count)).c_str(),
              nan ? "nan" : formatNumber(absMax).c_str());
}

struct Buffers {
  std::vector<loomBuffer *> list;
  ~Buffers() { clear(); }
  void clear() {
    for (loomBuffer *b : list)
      loomBufferDestroy(b);
    list.clear();
  }
};

struct ModuleHandle {
  loomModule *module = nullptr;
  ~ModuleHandle() { loomModuleUnload(module); }
};

int run(const Options &options) {
  loomDevice device =
      options.target == "cuda" ? LOOM_DEVICE_CUDA : LOOM_DEVICE_CPU;
  // A missing driver is reported before a .mlir FILE is compiled for it
  // (compiling would be wasted). A library goes to loomModuleLoad, which
  // checks the file first: a truncated or corrupted module is reported as
  // such on any machine, and a sound one then as needing the driver.
  if (endsWith(options.file, ".mlir") && loomDeviceInit(device) != LOOM_SUCCESS)
    return fail(loomGetLastError());

  if (!options.chip.empty() && !endsWith(options.file, ".mlir"))
    return fail("--chip applies to a .mlir FILE, which loom-run compiles; '" +
                options.file + "' is compiled already");

  TempDir temp;
  std::string library = options.file;
  if (endsWith(options.file, ".mlir")) {
    std::string error;
    if (!compileMLIR(options.file, options.target, options.chip, temp,
                     library, error))
      return fail(error);
  }
  // A module compiled here lives in a temporary directory: messages name
  // the source file instead.
  auto runtimeError = [&]() {
    std::string error = loomGetLastError();
    if (library != options.file)
      for (size_t at = error.find(library); at != std::string::npos;
           at = error.find(library, at + options.file.size()))
        error.replace(at, library.size(), options.file);
    return fail(error);
  };
  ModuleHandle module;
  module.module = loomModuleLoad(library.c_str(), device);
  if (!module.module)
    return runtimeError();
  const loomEntry *entry =
      loomModuleLookupEntry(module.module, options.entry.c_str());
  if (!entry)
    return runtimeError();
  int64_t numArgs = loomEntryNumArgs(entry);
  int64_t numResults = loomEntryNumResults(entry);
  std::string name = "entry '" + options.entry + "'";

  int64_t given = int64_t(options.inputs.size());
  if (options.randomInputs ? given > numArgs : given != numArgs)
    return fail(name + " takes " + std::to_string(numArgs) +
                " argument(s), " + std::to_string(given) +
                " --input given" +
                (options.randomInputs
                     ? ""
                     : (given < numArgs ? " (or use --random-inputs)" : "")));
  if (!options.outputs.empty() &&
      int64_t(options.outputs.size()) != numResults)
    return fail(name + " returns " + std::to_string(numResults) +
                " result(s), " + std::to_string(options.outputs.size()) +
                " --output given");

  std::vector<Hint> hints;
  if (options.randomInputs) {
    std::string error;
    if (!parseHints(loomModuleInputHints(module.module), options.entry, entry,
                    hints, error))
      return fail(error);
  }
  Buffers args;
  for (int64_t i = 0; i < numArgs; ++i) {
    loomTensorType type;
    loomEntryArgType(entry, i, &type);
    npy::Array array;
    std::string error, label;
    if (i < given) {
      label = options.inputs[i];
      if (!npy::readNpy(label, array, error))
        return fail(error);
      std::vector<int64_t> expected(type.dims, type.dims + type.rank);
      if (!npy::checkShape(array, expected, error, label))
        return fail(error + " (argument " + std::to_string(i) + " of " + name +
                    " is " + typeText(type) + ")");
    } else {
      label = "random argument " + std::to_string(i);
      if (!randomArray(type, hints[size_t(i)], options.seed, i, array, error))
        return fail(error);
    }
    std::vector<uint8_t> bytes;
    if (!npy::arrayToBuffer(array, kindOf(type.dtype), bytes, error, label))
      return fail(error + " (argument " + std::to_string(i) + " of " + name +
                  " is " + typeText(type) + ")");
    loomBuffer *buffer = loomBufferCreate(device, type.dtype,
                                          int64_t(array.shape.size()),
                                          array.shape.data());
    if (!buffer)
      return fail(loomGetLastError());
    args.list.push_back(buffer);
    if (loomBufferCopyFromHost(buffer, bytes.data(), bytes.size()) !=
        LOOM_SUCCESS)
      return fail(loomGetLastError());
  }

  Buffers results;
  std::vector<double> times;
  // On cuda the first call also loads the module's GPU code: with --bench
  // it is a warm-up, not timed.
  bool warmUp = options.bench > 0 && device == LOOM_DEVICE_CUDA;
  int64_t runs = (options.bench > 0 ? options.bench : 1) + (warmUp ? 1 : 0);
  for (int64_t r = 0; r < runs; ++r) {
    results.clear();
    results.list.assign(size_t(numResults), nullptr);
    // A CUDA entry synchronizes its stream before returning, so the host
    // clock around the call measures the kernels.
    auto start = std::chrono::steady_clock::now();
    loomStatus status = loomEntryCall(entry, args.list.data(), numArgs,
                                      results.list.data(), numResults);
    auto end = std::chrono::steady_clock::now();
    if (status == LOOM_SUCCESS)
      status = loomSynchronize(device);
    if (status != LOOM_SUCCESS) {
      results.clear(); // stored only on success, NULL otherwise
      return fail(loomGetLastError());
    }
    if (!(warmUp && r == 0))
      times.push_back(std::chrono::duration<double, std::milli>(end - start)
                          .count());
  }

  std::vector<npy::Array> arrays(static_cast<size_t>(numResults));
  for (int64_t i = 0; i < numResults; ++i) {
    loomBuffer *buffer = results.list[i];
    std::vector<uint8_t> host(loomBufferSizeInBytes(buffer));
    if (loomBufferCopyToHost(buffer, host.data(), host.size()) !=
        LOOM_SUCCESS)
      return fail(loomGetLastError());
    std::vector<int64_t> shape(loomBufferShape(buffer),
                               loomBufferShape(buffer) +
                                   loomBufferRank(buffer));
    std::string error;
    if (!npy::bufferToArray(host.data(), host.size(),
                            kindOf(loomBufferDType(buffer)), shape, arrays[i],
                            error, "result " + std::to_string(i)))
      return fail(error);
  }

  if (!options.outputs.empty()) {
    // Every file is written under a temporary name first and renamed into
    // place only when all are written, so a failure leaves no output.
    std::vector<std::string> staged;
    auto unstage = [&] {
      for (const std::string &s : staged)
        unlink(s.c_str());
    };
    for (int64_t i = 0; i < numResults; ++i) {
      std::string staging = options.outputs[i] + ".loom-run-" +
                            std::to_string(getpid()) + ".tmp";
      std::string error;
      if (!npy::writeNpy(staging, arrays[i], error)) {
        unlink(staging.c_str());
        unstage();
        return fail("cannot write '" + options.outputs[i] + "': " + error);
      }
      staged.push_back(staging);
    }
    for (int64_t i = 0; i < numResults; ++i)
      if (std::rename(staged[i].c_str(), options.outputs[i].c_str()) != 0) {
        int saved = errno;
        unstage();
        return fail("cannot write '" + options.outputs[i] +
                    "': " + std::strerror(saved));
      }
  } else {
    for (int64_t i = 0; i < numResults; ++i) {
      loomTensorType type;
      loomEntryResultType(entry, i, &type);
      printSummary(i, type, arrays[i]);
    }
  }
  if (options.bench > 0) {
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    double median =
        n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    std::printf("bench: %s on %s, %" PRId64 " runs, median %.4f ms "
                "(min %.4f ms, max %.4f ms)\n",
                options.entry.c_str(), options.target.c_str(), options.bench,
                median, sorted.front(), sorted.back());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  int parsed = parseOptions(argc, argv, options);
  if (parsed != 0)
    return parsed < 0 ? 0 : 1;
  return run(options);
}
