// tapegrad/io/npy.cc: the .npy header (a Python dict literal) parsed strictly, then the data.
#include "io/npy.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "autograd/functions.h"
#include "io/files.h"

namespace tg::io {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, ".npy data is read and written little-endian");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr int64_t kMaxBytes = int64_t{1} << 34;

struct Descr {
  char kind;   // 'f', 'i', 'u', 'b'
  int bytes;
};

// The value of `key` in the header dict: the text after "'key':" up to the next top-level comma.
absl::StatusOr<std::string> field(const std::string& header, const std::string& key, const std::string& source) {
  const std::string quoted = absl::StrCat("'", key, "'");
  const size_t at = header.find(quoted);
  if (at == std::string::npos) return absl::InvalidArgumentError(absl::StrCat(source, ": header has no '", key, "'"));
  size_t i = header.find(':', at + quoted.size());
  if (i == std::string::npos) return absl::InvalidArgumentError(absl::StrCat(source, ": header field '", key, "' has no value"));
  ++i;
  int depth = 0;
  size_t end = i;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if ((c == ',' && depth == 0) || c == '}' || depth < 0) break;
  }
  return std::string(absl::StripAsciiWhitespace(header.substr(i, end - i)));
}

absl::StatusOr<Descr> parse_descr(const std::string& value, const std::string& source) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(source, ": descr ", value,
                                                   " is not supported (little-endian float, int, uint up to 32 bits, "
                                                   "or bool)"));
  };
  if (value.size() < 5 || value.front() != '\'' || value.back() != '\'') return bad();
  const std::string d = value.substr(1, value.size() - 2);
  const char order = d[0], kind = d[1];
  int bytes;
  if (!absl::SimpleAtoi(d.substr(2), &bytes)) return bad();
  const bool little = order == '<' || order == '|' || (order == '=');
  if (!little) return bad();
  if (kind == 'f' && (bytes == 4 || bytes == 8)) return Descr{kind, bytes};
  if (kind == 'i' && (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8)) return Descr{kind, bytes};
  if (kind == 'u' && (bytes == 1 || bytes == 2 || bytes == 4)) return Descr{kind, bytes};
  if (kind == 'b' && bytes == 1) return Descr{kind, bytes};
  return bad();
}

int64_t read_int(const char* p, const Descr& d) {
  switch (d.bytes * (d.kind == 'u' ? -1 : 1)) {
    case 1: return static_cast<int8_t>(*p);
    case -1: return static_cast<uint8_t>(*p);
    case 2: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case -2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case -4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    default: { int64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

}  // namespace

absl::StatusOr<Tensor> parse_npy(const std::string& bytes, const std::string& source) {
  auto fail = [&](const std::string& what) { return absl::InvalidArgumentError(absl::StrCat(source, ": ", what)); };
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) return fail("not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<uint8_t>(bytes[6]);
  if (major < 1 || major > 3) return fail(absl::StrCat("format version ", major, " is not 1, 2 or 3"));
  size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    start = 10;
  } else {
    if (bytes.size() < 12) return fail("truncated header");
    uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    start = 12;
  }
  if (header_len > bytes.size() - start) return fail(absl::StrCat("header of ", header_len, " bytes is truncated"));
  const std::string header = bytes.substr(start, header_len);
  auto descr_text = field(header, "descr", source);
  if (!descr_text.ok()) return descr_text.status();
  auto descr = parse_descr(*descr_text, source);
  if (!descr.ok()) return descr.status();
  auto fortran_text = field(header, "fortran_order", source);
  if (!fortran_text.ok()) return fortran_text.status();
  if (*fortran_text != "True" && *fortran_text != "False") return fail("fortran_order is not True or False");
  const bool fortran = *fortran_text == "True";
  auto shape_text = field(header, "shape", source);
  if (!shape_text.ok()) return shape_text.status();
  if (shape_text->size() < 2 || shape_text->front() != '(' || shape_text->back() != ')') {
    return fail(absl::StrCat("shape ", *shape_text, " is not a tuple"));
  }
  Shape shape;
  int64_t numel = 1;
  for (absl::string_view part : absl::StrSplit(shape_text->substr(1, shape_text->size() - 2), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) continue;
    int64_t d;
    if (!absl::SimpleAtoi(part, &d) || d < 0) return fail(absl::StrCat("shape entry '", part, "' is not a size"));
    if (__builtin_mul_overflow(numel, d, &numel) || numel > kMaxBytes / 8) return fail("shape has too many elements");
    shape.push_back(d);
  }
  const size_t data_start = start + header_len;
  const int64_t need = numel * descr->bytes;
  if (static_cast<int64_t>(bytes.size() - data_start) != need) {
    return fail(absl::StrCat("data holds ", bytes.size() - data_start, " bytes, shape ", shape_str(shape), " of ",
                             *descr_text, " needs ", need));
  }
  const char* p = bytes.data() + data_start;
  // Fortran order is C order of the reversed shape, transposed back.
  Shape stored = shape;
  if (fortran) std::reverse(stored.begin(), stored.end());
  ops::Array a;
  if (descr->kind == 'f') {
    a = ops::Array::empty(stored, descr->bytes == 4 ? kFloat32 : kFloat64);
    if (need > 0) std::memcpy(a.raw_data(), p, need);
  } else if (descr->kind == 'b') {
    a = ops::Array::empty(stored, kBool);
    for (int64_t i = 0; i < numel; ++i) {
      if (static_cast<uint8_t>(p[i]) > 1) return fail(absl::StrCat("bool byte ", int(uint8_t(p[i])), " at element ", i));
    }
    if (need > 0) std::memcpy(a.raw_data(), p, need);
  } else {
    a = ops::Array::empty(stored, kInt64);
    int64_t* out = numel > 0 ? a.data<int64_t>() : nullptr;
    for (int64_t i = 0; i < numel; ++i) out[i] = read_int(p + i * descr->bytes, *descr);
  }
  Tensor t(a);
  if (fortran && t.dim() > 1) {
    Shape perm;
    for (int64_t d = t.dim() - 1; d >= 0; --d) perm.push_back(d);
    t = contiguous(permute(t, perm));
  }
  return t;
}

absl::StatusOr<Tensor> load_npy(const std::string& path) {
  auto bytes = read_file(path, kMaxBytes);
  if (!bytes.ok()) return bytes.status();
  return parse_npy(*bytes, path);
}

std::string npy_bytes(const Tensor& t) {
  const char* descr = t.dtype() == kFloat32 ? "<f4" : t.dtype() == kFloat64 ? "<f8" : t.dtype() == kInt64 ? "<i8" : "|b1";
  std::vector<std::string> dims;
  for (int64_t d : t.shape()) dims.push_back(std::to_string(d));
  std::string shape = absl::StrJoin(dims, ", ");
  if (dims.size() == 1) shape += ",";
  std::string header = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Magic, version 1.0, header length, then the header padded with spaces to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const ops::Array c = t.data().contiguous();
  if (c.numel() > 0) out.append(static_cast<const char*>(c.raw_data()), c.numel() * dtype_size(c.dtype()));
  return out;
}

absl::Status save_npy(const Tensor& t, const std::string& path) { return write_file_atomically(path, npy_bytes(t)); }

}  // namespace tg::io
