// git/machine_config: the machine's fair-share limits come from the system config file only,
// and only from one that root owns and alone can write.
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/git/machine_config.hpp"
#include "gitmodel/git/repository.hpp"

#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace gm;
using gm::test::ScratchDir;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) old = v;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old) ::setenv(name.c_str(), old->c_str(), 1);
        else ::unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("machine config: limits from a root-owned GIT_CONFIG_SYSTEM file, whatever GIT_CONFIG_NOSYSTEM says",
          "[git][machine]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const auto file = scratch.path / "system.gitconfig";
    test::spit(file, "[model]\n\tmaxGpusPerUser = 2\n\tmaxLeaseHours = 48\n\tgpus = 0,1\n[user]\n\tname = x\n");
    ::chmod(file.c_str(), 0644);
    const ScopedEnv system("GIT_CONFIG_SYSTEM", file.string());
    const ScopedEnv nosystem("GIT_CONFIG_NOSYSTEM", "1");
    const git::Library library;
    const auto machine = git::read_machine_config("model.");
    CHECK(machine.file == file);
    CHECK(machine.values.at("model.maxgpusperuser") == "2");
    CHECK(machine.values.count("user.name") == 0);
    const auto limits = env::machine_limits();
    CHECK(limits.max_gpus_per_user == 2);
    CHECK(limits.max_lease_hours == 48);
    CHECK(limits.source == file.string());

    // A file a user could write sets nothing: it is passed over, saying why.
    ::chmod(file.c_str(), 0666);
    CHECK_THAT(git::read_machine_config("model.").note, Catch::Contains("users other than root can change it"));
    CHECK(git::read_machine_config("model.").file != file);
    ::chmod(file.c_str(), 0644);
    ::chown(file.c_str(), test::other_uid, test::other_uid);
    CHECK_THAT(git::read_machine_config("model.").note, Catch::Contains("belongs to 54321, not to root"));
    ::chown(file.c_str(), 0, 0);

    test::spit(file, "[model]\n\tmaxGpusPerUser = many\n");
    CHECK_THROWS_WITH(env::machine_limits(), Catch::Contains("model.maxGpusPerUser in " + file.string() + " is 'many'"));
}
