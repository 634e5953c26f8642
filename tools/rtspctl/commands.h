// rtspctl's command groups. Each Run* takes the parsed command line (words
// after the group name included) and returns the process exit code
// (client.h); each prints its own --help.
#ifndef RTSPTEST_TOOLS_RTSPCTL_COMMANDS_H_
#define RTSPTEST_TOOLS_RTSPCTL_COMMANDS_H_

#include "tools/rtspctl/args.h"

namespace rtsptest::tools {

// Text shared by every --help: global flags and exit codes.
extern const char kGlobalHelp[];

int RunStreams(const Args& args);
int RunPlugins(const Args& args);
int RunHealth(const Args& args);
int RunInfo(const Args& args);
int RunSessions(const Args& args);
int RunFaults(const Args& args);
int RunEvents(const Args& args);

}  // namespace rtsptest::tools

#endif  // RTSPTEST_TOOLS_RTSPCTL_COMMANDS_H_
