// The state file on disk (see header).
#include "control/state/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace rtsptest::control {
namespace {

std::string Errno(absl::string_view call, const std::string& what) {
  return absl::StrCat(call, "(", what, "): ", strerror(errno));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// write() until everything is written (short writes, EINTR).
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<state::v1::StateFile> ReadStateFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("state file ", path, ": absent"));
    return absl::FailedPreconditionError(
        absl::StrCat("state file ", path, ": ", Errno("stat", path)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("state file ", path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("state file ", path, ": ", Errno("open", path)));
  }
  std::stringstream text;
  text << in.rdbuf();
  state::v1::StateFile state;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  google::protobuf::util::Status parsed =
      google::protobuf::util::JsonStringToMessage(text.str(), &state, options);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat(
        "state file ", path, ": not valid JSON of a state file: ", std::string(parsed.message())));
  }
  if (state.version() != kStateFileVersion) {
    return absl::DataLossError(absl::StrCat("state file ", path, ": version ", state.version(),
                                            " (this server reads version ", kStateFileVersion,
                                            ")"));
  }
  return state;
}

absl::Status WriteStateFile(const std::string& path, const state::v1::StateFile& state) {
  state::v1::StateFile versioned = state;
  versioned.set_version(kStateFileVersion);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  google::protobuf::util::Status printed =
      google::protobuf::util::MessageToJsonString(versioned, &json, options);
  if (!printed.ok()) {
    return absl::InternalError(
        absl::StrCat("state file ", path, ": cannot encode: ", std::string(printed.message())));
  }
  // Unique per process and call: a second server pointed at the same file
  // must not write into this one's temporary file.
  static std::atomic<uint64_t> counter{0};
  const std::string temp = absl::StrCat(path, ".tmp-", getpid(), "-", counter++);
  auto fail = [&](const std::string& message) {
    unlink(temp.c_str());
    return absl::InternalError(absl::StrCat("state file ", path, ": ", message));
  };
  // 0600 at creation, so that the credentials are never readable by others,
  // not even for a moment.
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errno("open", temp));
  if (!WriteAll(fd, json)) {
    std::string message = Errno("write", temp);
    close(fd);
    return fail(message);
  }
  if (fsync(fd) != 0) {
    std::string message = Errno("fsync", temp);
    close(fd);
    return fail(message);
  }
  if (close(fd) != 0) return fail(Errno("close", temp));
  if (rename(temp.c_str(), path.c_str()) != 0) return fail(Errno("rename", temp));
  // The rename is durable only once the directory entry is on disk.
  const std::string dir = DirectoryOf(path);
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return absl::InternalError(absl::StrCat("state file ", path, ": ", Errno("open", dir)));
  }
  const bool synced = fsync(dir_fd) == 0;
  std::string message = synced ? "" : Errno("fsync", dir);
  close(dir_fd);
  if (!synced) return absl::InternalError(absl::StrCat("state file ", path, ": ", message));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SetStateFileAside(const std::string& path, absl::Time now) {
  const std::string aside =
      absl::StrCat(path, ".corrupt-", absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  if (rename(path.c_str(), aside.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("state file ", path, ": ",
                                            Errno("rename", absl::StrCat(path, " -> ", aside))));
  }
  return aside;
}

}  // namespace rtsptest::control
