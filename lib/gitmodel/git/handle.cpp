#include "gitmodel/git/handle.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

namespace gm::git {

void check(int libgit2_result, const char* doing) {
    if (libgit2_result >= 0) return;
    const git_error* error = git_error_last();
    throw Error(fmt::format("{}: {}", doing, error && error->message ? error->message : "unknown libgit2 error"));
}

}  // namespace gm::git
