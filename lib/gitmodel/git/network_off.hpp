#pragma once
// The suite never talks to a remote through libgit2: push, fetch and clone run
// the git program, which has its own TLS, credentials and SSH set-up. So the
// start-up work libgit2 does for its own transports (see the .cpp) is skipped,
// and its transports refuse clearly if anything ever reaches them.

#include <string>
#include <string_view>

namespace gm::git {

// Referenced by Library so that the library member holding the replacements of
// libgit2's network set-up is always linked into the executables.
void keep_libgit2_network_off();

// True where the transports are replaced (a static libgit2); with a shared
// libgit2 only the CA bundle is skipped and the transports stay as they are.
bool libgit2_network_is_off();

// Opens `url` for fetching through libgit2 (no network traffic happens: the
// transport is refused before any connection) and returns libgit2's error
// message, or "" if it connected. For the tests: an https or ssh URL must give
// the refusal, never a crash on the skipped set-up.
std::string libgit2_connect_error(std::string_view url);

}  // namespace gm::git
