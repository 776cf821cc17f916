#include "userspace/core/core_input.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdlib>
#include <functional>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"

namespace pyhang::core {
namespace {

constexpr size_t kChunk = 1 << 20;

absl::Status ErrnoError(const std::string& name, absl::string_view what, int error) {
  std::string message = absl::StrCat(name, ": ", what, what.empty() ? "" : ": ", strerror(error));
  switch (error) {
    case ENOENT: return absl::NotFoundError(message);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(message);
    default: return absl::InvalidArgumentError(message);
  }
}

// An unlinked temporary file: it vanishes with the descriptor.
absl::StatusOr<UniqueFd> TemporaryFile() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string directory = tmpdir && *tmpdir ? tmpdir : "/var/tmp";
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string pattern = directory + "/pyhang-core-XXXXXX";
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(pattern.c_str());
  }
  if (fd < 0) return ErrnoError(directory, "cannot create a temporary file there", errno);
  return UniqueFd(fd);
}

// Reads up to `size` bytes, retrying short reads; returns bytes read.
absl::StatusOr<size_t> ReadSome(int fd, char* buffer, size_t size, const std::string& name) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(name, "read", errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::Status WriteAll(int fd, const char* data, size_t size, uint64_t* total) {
  *total += size;
  if (*total > kMaxDecompressedBytes) {
    return absl::InvalidArgumentError("decompressed core larger than 256 GiB");
  }
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InvalidArgumentError(absl::StrCat("writing the temporary copy: ", strerror(errno)));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Feeds `input` (starting with `head`) chunk by chunk to `step`, which
// consumes what it can and writes what it decoded; it returns true when
// the stream it consumed so far is complete.
using Step = std::function<absl::StatusOr<bool>(absl::string_view in, size_t* consumed)>;

absl::Status Pump(int input, std::string head, const std::string& name, const Step& step) {
  std::vector<char> buffer(kChunk);
  std::string pending = std::move(head);
  bool finished = false;
  while (true) {
    if (pending.empty()) {
      ASSIGN_OR_RETURN(size_t n, ReadSome(input, buffer.data(), buffer.size(), name));
      if (n == 0) break;
      pending.assign(buffer.data(), n);
    }
    size_t consumed = 0;
    ASSIGN_OR_RETURN(finished, step(pending, &consumed));
    pending.erase(0, consumed);
    if (consumed == 0) {  // the decoder needs more than is pending
      ASSIGN_OR_RETURN(size_t n, ReadSome(input, buffer.data(), buffer.size(), name));
      if (n == 0) break;
      pending.append(buffer.data(), n);
    }
  }
  if (!finished) return absl::InvalidArgumentError("compressed data ends early (truncated?)");
  return absl::OkStatus();
}

absl::Status DecompressZstd(int input, std::string head, const std::string& name, int output) {
  ZSTD_DStream* stream = ZSTD_createDStream();
  absl::Cleanup free_stream = [stream] { ZSTD_freeDStream(stream); };
  std::vector<char> out(ZSTD_DStreamOutSize());
  uint64_t total = 0;
  return Pump(input, std::move(head), name, [&](absl::string_view in, size_t* consumed) -> absl::StatusOr<bool> {
    ZSTD_inBuffer source{in.data(), in.size(), 0};
    size_t remaining = 1;
    ZSTD_outBuffer sink{};
    do {  // until the input is used up and the output no longer fills the buffer
      sink = ZSTD_outBuffer{out.data(), out.size(), 0};
      remaining = ZSTD_decompressStream(stream, &sink, &source);
      if (ZSTD_isError(remaining)) return absl::InvalidArgumentError(absl::StrCat("zstd: ", ZSTD_getErrorName(remaining)));
      RETURN_IF_ERROR(WriteAll(output, out.data(), sink.pos, &total));
    } while (remaining != 0 && (source.pos < source.size || sink.pos == sink.size));
    *consumed = source.pos;
    return remaining == 0;
  });
}

absl::Status DecompressLz4(int input, std::string head, const std::string& name, int output) {
  LZ4F_dctx* context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
    return absl::InternalError("lz4: cannot create a context");
  }
  absl::Cleanup free_context = [context] { LZ4F_freeDecompressionContext(context); };
  std::vector<char> out(kChunk);
  uint64_t total = 0;
  return Pump(input, std::move(head), name, [&](absl::string_view in, size_t* consumed) -> absl::StatusOr<bool> {
    size_t at = 0;
    size_t hint = 1;
    while (true) {  // until the input is used up and the output no longer fills the buffer
      size_t out_size = out.size(), in_size = in.size() - at;
      hint = LZ4F_decompress(context, out.data(), &out_size, in.data() + at, &in_size, nullptr);
      if (LZ4F_isError(hint)) return absl::InvalidArgumentError(absl::StrCat("lz4: ", LZ4F_getErrorName(hint)));
      at += in_size;
      RETURN_IF_ERROR(WriteAll(output, out.data(), out_size, &total));
      if (hint == 0 || (at == in.size() && out_size < out.size())) break;
    }
    *consumed = at;
    return hint == 0;
  });
}

absl::Status DecompressXz(int input, std::string head, const std::string& name, int output) {
  lzma_stream stream = LZMA_STREAM_INIT;
  // xz's own default limit for decoding is far below this; a stream that
  // asks for more (a hostile header) is an error, not a 4 GiB allocation.
  constexpr uint64_t kMemoryLimit = uint64_t{1} << 30;
  if (lzma_stream_decoder(&stream, kMemoryLimit, LZMA_CONCATENATED) != LZMA_OK) {
    return absl::InternalError("xz: cannot create a decoder");
  }
  absl::Cleanup free_stream = [&stream] { lzma_end(&stream); };
  std::vector<uint8_t> out(kChunk);
  uint64_t total = 0;
  bool ended = false;
  absl::Status status = Pump(input, std::move(head), name,
      [&](absl::string_view in, size_t* consumed) -> absl::StatusOr<bool> {
    if (ended) {  // trailing bytes after the end: ignored, as xz does with padding
      *consumed = in.size();
      return true;
    }
    stream.next_in = reinterpret_cast<const uint8_t*>(in.data());
    stream.avail_in = in.size();
    do {  // until the input is used up and the output no longer fills the buffer
      stream.next_out = out.data();
      stream.avail_out = out.size();
      lzma_ret ret = lzma_code(&stream, LZMA_RUN);
      if (ret == LZMA_MEMLIMIT_ERROR) return absl::InvalidArgumentError("xz: the stream needs more than 1 GiB to decode");
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) return absl::InvalidArgumentError(absl::StrCat("xz: corrupt data (error ", ret, ")"));
      RETURN_IF_ERROR(WriteAll(output, reinterpret_cast<const char*>(out.data()), out.size() - stream.avail_out, &total));
      ended = ret == LZMA_STREAM_END;
    } while (!ended && (stream.avail_in > 0 || stream.avail_out == 0));
    *consumed = in.size() - stream.avail_in;
    return true;  // with LZMA_CONCATENATED the end is only known at LZMA_FINISH, below
  });
  if (!status.ok()) return status;
  // LZMA_CONCATENATED: the end is only known once told there is no more input.
  while (!ended) {
    stream.next_out = out.data();
    stream.avail_out = out.size();
    lzma_ret ret = lzma_code(&stream, LZMA_FINISH);
    if (ret == LZMA_OK && stream.avail_out == out.size()) ret = LZMA_BUF_ERROR;  // no progress
    if (ret != LZMA_OK && ret != LZMA_STREAM_END) return absl::InvalidArgumentError("xz: compressed data ends early (truncated?)");
    RETURN_IF_ERROR(WriteAll(output, reinterpret_cast<const char*>(out.data()), out.size() - stream.avail_out, &total));
    ended = ret == LZMA_STREAM_END;
  }
  return absl::OkStatus();
}

}  // namespace

Compression DetectCompression(absl::string_view head) {
  auto starts = [&](absl::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (starts("\x04\x22\x4d\x18")) return Compression::kLz4;
  if (starts(absl::string_view("\xfd" "7zXZ\0", 6))) return Compression::kXz;
  return Compression::kNone;
}

absl::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4: return "lz4";
    case Compression::kXz: return "xz";
  }
  return "none";
}

absl::StatusOr<CoreInput> OpenCoreInput(const std::string& path) {
  CoreInput input;
  UniqueFd fd;
  if (path == "-") {
    input.name = "standard input";
    fd = UniqueFd(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return ErrnoError(input.name, "", errno);
  } else {
    input.name = path;
    fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) return ErrnoError(path, "", errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(input.name, "", errno);
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(input.name, ": is a directory, not a core file"));
  const bool regular = S_ISREG(st.st_mode);
  if (regular && st.st_size == 0) return absl::InvalidArgumentError(absl::StrCat(input.name, ": empty file, not a core"));
  if (!regular && path != "-" && !S_ISFIFO(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(input.name, ": not a regular file"));
  }
  if (!regular) {
    // A pipe: block on it like any reader of stdin would.
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  }
  std::string head(6, '\0');
  ASSIGN_OR_RETURN(size_t got, ReadSome(fd.get(), head.data(), head.size(), input.name));
  head.resize(got);
  if (got == 0) return absl::InvalidArgumentError(absl::StrCat(input.name, ": empty, not a core"));
  input.compression = DetectCompression(head);
  if (regular && input.compression == Compression::kNone) {
    input.fd = std::move(fd);  // mapped as it is
    return input;
  }
  ASSIGN_OR_RETURN(UniqueFd copy, TemporaryFile());
  absl::Status status;
  uint64_t total = 0;
  switch (input.compression) {
    case Compression::kZstd: status = DecompressZstd(fd.get(), head, input.name, copy.get()); break;
    case Compression::kLz4: status = DecompressLz4(fd.get(), head, input.name, copy.get()); break;
    case Compression::kXz: status = DecompressXz(fd.get(), head, input.name, copy.get()); break;
    case Compression::kNone: {
      status = WriteAll(copy.get(), head.data(), head.size(), &total);
      std::vector<char> buffer(kChunk);
      while (status.ok()) {
        absl::StatusOr<size_t> n = ReadSome(fd.get(), buffer.data(), buffer.size(), input.name);
        if (!n.ok()) { status = n.status(); break; }
        if (*n == 0) break;
        status = WriteAll(copy.get(), buffer.data(), *n, &total);
      }
      break;
    }
  }
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(input.name, ": ", status.message()));
  }
  input.fd = std::move(copy);
  return input;
}

}  // namespace pyhang::core
