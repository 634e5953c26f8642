// health_probe's shared output: see cli.h.
#include "tools/health_probe/cli.h"

#include <cstdio>

namespace rtsptest::tools {

void PrintLine(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

int BadArguments(const std::string& message) {
  PrintLine(message);
  return kInvalidArguments;
}

}  // namespace rtsptest::tools
