// Parsing and printing of module signatures (docs/abi.md), with no MLIR.
//
// The grammar is small and strict: a signature that does not parse exactly
// comes from a different ABI version or a broken module, and running it
// anyway would pass buffers the module does not expect.

#include "Signature.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace loom {
namespace runtime {

namespace {

struct DTypeInfo {
  loomDType dtype;
  const char *name;
  size_t bytes;
};

const DTypeInfo kDTypes[] = {
    {LOOM_DTYPE_F32, "f32", 4},  {LOOM_DTYPE_F16, "f16", 2},
    {LOOM_DTYPE_BF16, "bf16", 2}, {LOOM_DTYPE_F64, "f64", 8},
    {LOOM_DTYPE_F8E4M3FN, "f8E4M3FN", 1},
    {LOOM_DTYPE_I1, "i1", 1},    {LOOM_DTYPE_I4, "i4", 1},
    {LOOM_DTYPE_I8, "i8", 1},    {LOOM_DTYPE_I32, "i32", 4},
    {LOOM_DTYPE_I64, "i64", 8},
};

/// A cursor over one line.
struct Cursor {
  const std::string &text;
  size_t pos = 0;

  bool atEnd() const { return pos >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[pos]; }
  bool consume(const std::string &token) {
    if (text.compare(pos, token.size(), token) != 0)
      return false;
    pos += token.size();
    return true;
  }
  void skipSpaces() {
    while (!atEnd() && text[pos] == ' ')
      ++pos;
  }
  /// What follows, quoted, for messages.
  std::string rest() const {
    if (atEnd())
      return "end of line";
    std::string r = text.substr(pos, 24);
    return "'" + r + (pos + 24 < text.size() ? "...'" : "'");
  }
};

bool isIdentStart(char c) { return std::isalpha((unsigned char)c) || c == '_'; }
bool isIdentChar(char c) { return std::isalnum((unsigned char)c) || c == '_'; }

bool parseType(Cursor &c, TensorType &type, std::string &error) {
  size_t start = c.pos;
  if (!c.consume("tensor<")) {
    error = "expected a tensor type at " + c.rest();
    return false;
  }
  type.dims.clear();
  while (std::isdigit((unsigned char)c.peek()) || c.peek() == '?') {
    if (c.consume("?")) {
      type.dims.push_back(LOOM_DYNAMIC);
    } else {
      int64_t value = 0;
      while (std::isdigit((unsigned char)c.peek())) {
        if (value > (INT64_C(1) << 56)) {
          error = "dimension too large in '" +
                  c.text.substr(start, c.pos - start) + "...'";
          return false;
        }
        value = value * 10 + (c.peek() - '0');
        ++c.pos;
      }
      type.dims.push_back(value);
    }
    if (!c.consume("x")) {
      error = "expected 'x' after a dimension at " + c.rest();
      return false;
    }
    if (type.dims.size() > LOOM_MAX_RANK) {
      error = "rank above " + std::to_string(LOOM_MAX_RANK);
      return false;
    }
  }
  size_t nameStart = c.pos;
  while (std::isalnum((unsigned char)c.peek()))
    ++c.pos;
  std::string name = c.text.substr(nameStart, c.pos - nameStart);
  if (!dtypeFromName(name, type.dtype)) {
    error = name.empty() ? "expected an element type at " + c.rest()
                         : "unknown element type '" + name + "'";
    return false;
  }
  if (!c.consume(">")) {
    error = "expected '>' at " + c.rest();
    return false;
  }
  if (type.dtype == LOOM_DTYPE_I4) {
    int64_t inner = type.dims.empty() ? 1 : type.dims.back();
    if (inner != LOOM_DYNAMIC && inner % 2 != 0) {
      error = "'" + c.text.substr(start, c.pos - start) +
              "': an i4 tensor needs an even innermost dimension (it is "
              "packed two per byte along it)";
      return false;
    }
  }
  return true;
}

/// "(T, T, ...)" or "()".
bool parseTypeList(Cursor &c, std::vector<TensorType> &types,
                   std::string &error) {
  if (!c.consume("(")) {
    error = "expected '(' at " + c.rest();
    return false;
  }
  types.clear();
  c.skipSpaces();
  if (c.consume(")"))
    return true;
  while (true) {
    TensorType type;
    if (!parseType(c, type, error))
      return false;
    types.push_back(type);
    c.skipSpaces();
    if (c.consume(")"))
      return true;
    if (!c.consume(",")) {
      error = "expected ',' or ')' at " + c.rest();
      return false;
    }
    c.skipSpaces();
  }
}

bool parseEntry(Cursor &c, EntrySignature &entry, std::string &error) {
  size_t start = c.pos;
  if (!isIdentStart(c.peek())) {
    error = "expected an entry name (a C identifier) at " + c.rest();
    return false;
  }
  while (isIdentChar(c.peek()))
    ++c.pos;
  entry.name = c.text.substr(start, c.pos - start);
  if (!parseTypeList(c, entry.args, error))
    return false;
  c.skipSpaces();
  if (!c.consume("->")) {
    error = "expected '->' at " + c.rest();
    return false;
  }
  c.skipSpaces();
  if (!parseTypeList(c, entry.results, error))
    return false;
  c.skipSpaces();
  if (!c.atEnd()) {
    error = "unexpected " + c.rest() + " after the results";
    return false;
  }
  entry.text = c.text.substr(start);
  return true;
}

} // namespace

bool dtypeFromName(const std::string &name, loomDType &dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name) {
      dtype = info.dtype;
      return true;
    }
  return false;
}

const char *dtypeName(loomDType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info.name;
  return "<invalid dtype>";
}

size_t storageElementBytes(loomDType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info.bytes;
  return 0;
}

bool parseTensorType(const std::string &text, TensorType &type,
                     std::string &error) {
  Cursor c{text};
  if (!parseType(c, type, error))
    return false;
  if (!c.atEnd()) {
    error = "unexpected " + c.rest() + " after the type";
    return false;
  }
  return true;
}

std::string formatTensorType(const TensorType &type) {
  std::string text = "tensor<";
  for (int64_t d : type.dims)
    text += (d == LOOM_DYNAMIC ? std::string("?") : std::to_string(d)) + "x";
  return text + dtypeName(type.dtype) + ">";
}

bool parseSignature(const std::string &text, ModuleSignature &signature,
                    std::string &error) {
  signature = ModuleSignature();
  std::set<std::string> names;
  bool sawTarget = false;
  size_t lineStart = 0;
  for (int lineNo = 1; lineStart < text.size(); ++lineNo) {
    size_t lineEnd = text.find('\n', lineStart);
    if (lineEnd == std::string::npos)
      lineEnd = text.size();
    std::string line = text.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    auto fail = [&](const std::string &message) {
      error = "line " + std::to_string(lineNo) + ": " + message;
      return false;
    };
    if (line.empty())
      continue;
    Cursor c{line};
    if (signature.abi == 0) {
      // The version comes first so that a future format fails here, with a
      // message about versions, rather than on some later line.
      if (!c.consume("abi "))
        return fail("expected 'abi " + std::to_string(kABIVersion) +
                    "' first, found '" + line.substr(0, 40) + "'");
      std::string version = line.substr(c.pos);
      int number = 0;
      if (!version.empty() && version.size() < 9 &&
          std::all_of(version.begin(), version.end(), ::isdigit))
        number = std::stoi(version);
      if (number < kOldestABIVersion || number > kABIVersion) {
        // The version found, for a caller's message about recompiling.
        signature.abi = number;
        return fail("unsupported ABI version '" + version +
                    "' (this runtime reads versions " +
                    std::to_string(kOldestABIVersion) + " to " +
                    std::to_string(kABIVersion) + ")");
      }
      signature.abi = number;
      continue;
    }
    if (c.consume("target ")) {
      if (sawTarget)
        return fail("a second 'target' line");
      signature.target = line.substr(c.pos);
      if (signature.target.empty())
        return fail("empty target");
      for (char ch : signature.target)
        if (!isIdentChar(ch))
          return fail("malformed target '" + signature.target + "'");
      sawTarget = true;
      continue;
    }
    if (c.consume("entry ")) {
      if (!sawTarget)
        return fail("'entry' before the 'target' line");
      EntrySignature entry;
      std::string message;
      if (!parseEntry(c, entry, message))
        return fail(message);
      if (!names.insert(entry.name).second)
        return fail("a second entry named '" + entry.name + "'");
      signature.entries.push_back(std::move(entry));
      continue;
    }
    return fail("unknown line '" + line.substr(0, 40) + "'");
  }
  if (signature.abi == 0) {
    error = "empty signature";
    return false;
  }
  if (!sawTarget) {
    error = "no 'target' line";
    return false;
  }
  return true;
}

} // namespace runtime
} // namespace loom
