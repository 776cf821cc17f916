#include "tests/fuzz/fuzz_util.h"

#include <filesystem>
#include <fstream>

namespace pyhang::fuzz {

void MakeSeedsIfAsked(int argc, char** argv, Seeds (*make)()) {
  constexpr absl::string_view kFlag = "--make-seeds=";
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg(argv[i]);
    if (arg.substr(0, kFlag.size()) != kFlag) continue;
    std::string dir(arg.substr(kFlag.size()));
    std::filesystem::create_directories(dir);
    Seeds seeds = make();
    for (const auto& [name, bytes] : seeds) {
      std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      FUZZ_CHECK(out.good());
    }
    fprintf(stderr, "%s: %zu seeds in %s\n", argv[0], seeds.size(), dir.c_str());
    exit(0);
  }
}

}  // namespace pyhang::fuzz
