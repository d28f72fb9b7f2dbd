// libgit2's network transports are switched off (lib/gitmodel/git/network_off.cpp): reaching one must give
// a clear refusal, never a crash on the TLS and SSH set-up that start-up skipped.
#include "gitmodel/git/network_off.hpp"
#include "gitmodel/git/repository.hpp"

#include <catch2/catch.hpp>

using namespace gm::git;

TEST_CASE("libgit2's network transports refuse with the reason", "[git]") {
    if (!libgit2_network_is_off()) {
        WARN("a shared libgit2: its transports are left as they are");
        return;
    }
    Library library;
    for (const char* url : {"https://git.example.invalid/team/models.git", "http://127.0.0.1:9/models.git",
                            "ssh://git@127.0.0.1:9/models.git", "git@127.0.0.1:models.git",
                            "git://127.0.0.1:9/models.git"}) {
        INFO(url);
        const std::string error = libgit2_connect_error(url);
        CHECK(error.find("git-model does not use libgit2's network transports") != std::string::npos);
    }
}

TEST_CASE("local repositories are still reached through libgit2", "[git]") {
    Library library;
    // A path that is no repository: the local transport answers (with its own error), it is not refused.
    const std::string error = libgit2_connect_error("/nonexistent/git-model-test.git");
    CHECK_FALSE(error.empty());
    CHECK(error.find("network transports") == std::string::npos);
}
