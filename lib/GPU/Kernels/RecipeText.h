//===- RecipeText.h - building kernel recipes as MLIR text ------*- C++ -*-===//
//
// What the generated kernel recipes (attention, GEMM, GEMV, row kernels)
// share: `cat`, and an emitter that builds a gpu.func body as text, one op a
// line, with fresh SSA names and its constants hoisted to the entry block.

#ifndef LOOM_LIB_GPU_KERNELS_RECIPETEXT_H
#define LOOM_LIB_GPU_KERNELS_RECIPETEXT_H

#include <cstdint>
#include <map>
#include <sstream>
#include <string>

namespace loom {
namespace gpu {
namespace recipe {

/// Concatenates its arguments (strings and integers) into one string.
template <typename... Args> std::string cat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

inline std::string str(int64_t v) { return std::to_string(v); }

/// Builds the body of a kernel as text: fresh SSA names (`%prefix<n>`, one
/// counter for all prefixes), one op per line (indented by `indent` spaces)
/// and constants defined once each, hoisted to the entry block.
class TextEmitter {
public:
  /// The order of the hoisted constants: by name, or by first use.
  enum class ConstantOrder { ByName, ByFirstUse };
  explicit TextEmitter(ConstantOrder order = ConstantOrder::ByFirstUse)
      : order(order) {}

  std::string fresh(const std::string &prefix = "v") {
    return cat("%", prefix, next++);
  }
  void line(const std::string &s) {
    body += std::string(indent, ' ') + s + "\n";
  }
  /// Emits `%name = rhs` and returns the name.
  std::string let(const std::string &rhs, const std::string &prefix = "v") {
    std::string n = fresh(prefix);
    line(n + " = " + rhs);
    return n;
  }
  std::string op(const std::string &prefix, const std::string &rhs) {
    return let(rhs, prefix);
  }
  void open() { indent += 2; }
  void close() { indent -= 2; }

  /// `name = arith.constant rhs` in the entry block (once); returns `name`.
  std::string constant(const std::string &name, const std::string &rhs) {
    if (constants.emplace(name, rhs).second)
      header += "    " + name + " = arith.constant " + rhs + "\n";
    return name;
  }
  /// Index and i32 constants: %c<v>, %ci<v> (%cm<-v>, %cim<-v> if negative).
  std::string idx(int64_t v) {
    return constant(cat("%c", v < 0 ? "m" : "", v < 0 ? -v : v),
                    cat(v, " : index"));
  }
  std::string i32(int64_t v) {
    return constant(cat("%ci", v < 0 ? "m" : "", v < 0 ? -v : v),
                    cat(v, " : i32"));
  }

  /// The constants followed by the body.
  std::string text() const {
    if (order == ConstantOrder::ByFirstUse)
      return header + body;
    std::string s;
    for (auto &kv : constants)
      s += "    " + kv.first + " = arith.constant " + kv.second + "\n";
    return s + body;
  }

  int indent = 4;
  /// The constants' definitions in the order of first use, and the body.
  std::string header, body;

private:
  ConstantOrder order;
  std::map<std::string, std::string> constants;
  int64_t next = 0;
};

/// A TextEmitter with index arithmetic (results `%v<n>`, predicates
/// `%p<n>`).
class IndexEmitter : public TextEmitter {
public:
  std::string add(const std::string &a, const std::string &b) {
    return let("arith.addi " + a + ", " + b + " : index");
  }
  /// a + c for an index constant c (a itself when c = 0).
  std::string addConst(const std::string &a, int64_t c) {
    return c == 0 ? a : add(a, idx(c));
  }
  std::string mul(const std::string &a, const std::string &b) {
    return let("arith.muli " + a + ", " + b + " : index");
  }
  /// a * c for an index constant c (a itself when c = 1).
  std::string mul(const std::string &a, int64_t c) {
    return c == 1 ? a : mul(a, idx(c));
  }
  /// a + b * c for an index constant c.
  std::string addMul(const std::string &a, const std::string &b, int64_t c) {
    if (c == 0)
      return a;
    return add(a, c == 1 ? b : mul(b, idx(c)));
  }
  std::string div(const std::string &a, int64_t d) {
    return let("arith.divui " + a + ", " + idx(d) + " : index");
  }
  std::string rem(const std::string &a, int64_t d) {
    return let("arith.remui " + a + ", " + idx(d) + " : index");
  }
  std::string minu(const std::string &a, const std::string &b) {
    return let("arith.minui " + a + ", " + b + " : index");
  }
  std::string ult(const std::string &a, const std::string &b) {
    return let("arith.cmpi ult, " + a + ", " + b + " : index", "p");
  }
  std::string andi(const std::string &a, const std::string &b) {
    return let("arith.andi " + a + ", " + b + " : i1", "p");
  }
  std::string select(const std::string &p, const std::string &a,
                     const std::string &b, const std::string &type) {
    return let("arith.select " + p + ", " + a + ", " + b + " : " + type);
  }
};

/// The f32 value of a scalar `v` of type `type`.
inline std::string toF32(TextEmitter &e, const std::string &v,
                         const std::string &type) {
  if (type == "f32")
    return v;
  return e.let("arith.extf " + v + " : " + type + " to f32");
}

} // namespace recipe
} // namespace gpu
} // namespace loom

#endif // LOOM_LIB_GPU_KERNELS_RECIPETEXT_H
