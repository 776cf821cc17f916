#include "collectors/pprof/gzip.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace pyhang::collectors {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer

// Frees the zlib stream on every return path.
class Deflater {
 public:
  Deflater() { stream_ = z_stream{}; }
  ~Deflater() {
    if (initialized_) deflateEnd(&stream_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  int Init() {
    const int rc = deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
    initialized_ = rc == Z_OK;
    return rc;
  }
  z_stream& stream() { return stream_; }

 private:
  z_stream stream_;
  bool initialized_ = false;
};

absl::Status ZlibError(absl::string_view what, int rc, const z_stream& stream) {
  return absl::InternalError(
      absl::StrCat("gzip: ", what, " failed (zlib ", rc, ": ", stream.msg != nullptr ? stream.msg : "no message", ")"));
}

}  // namespace

absl::StatusOr<std::string> Gzip(absl::string_view data) {
  Deflater deflater;
  z_stream& stream = deflater.stream();
  if (int rc = deflater.Init(); rc != Z_OK) return ZlibError("deflateInit2", rc, stream);
  // deflateBound covers zlib framing, not gzip's 18-byte header and trailer.
  std::string out(deflateBound(&stream, data.size()) + 18, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (data.size() != stream.avail_in) return absl::InvalidArgumentError("gzip: input over 4 GiB");
  if (int rc = deflate(&stream, Z_FINISH); rc != Z_STREAM_END) return ZlibError("deflate", rc, stream);
  out.resize(stream.total_out);
  return out;
}

}  // namespace pyhang::collectors
