// CheckCommandLineFlags: the command line's flags checked before
// absl::ParseCommandLine sees them.
//
// absl::ParseCommandLine ends the process with exit code 1 on an unknown
// flag, a bad value or a missing one, the code that means "nothing could be
// served". A bad flag is a configuration error (exit 2), so main() checks
// every flag here first, the way absl will read it, and reports the first
// bad one with its name and value.
#ifndef RTSPTEST_APP_FLAG_CHECK_H_
#define RTSPTEST_APP_FLAG_CHECK_H_

#include "absl/status/status.h"

namespace rtsptest::app {

// InvalidArgument naming the flag and the value (e.g. "--list_plugins=
// 'maybe': not a boolean ...", "unknown flag --nosuchflag") for the first
// flag that absl::ParseCommandLine would reject; OK otherwise. Reads the
// flags defined in this binary (absl::FindCommandLineFlag), --undefok,
// and the lines of --flagfile files and the variables of --fromenv. Does
// not change any flag's value.
absl::Status CheckCommandLineFlags(int argc, char* argv[]);

}  // namespace rtsptest::app

#endif  // RTSPTEST_APP_FLAG_CHECK_H_
