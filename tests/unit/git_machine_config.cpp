// git/machine_config: the machine's fair-share limits come from the system config file only,
// and only from one that root owns and alone can write.
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/git/machine_config.hpp"
#include "gitmodel/git/repository.hpp"

#include "scratch.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace gm;
using gm::test::ScratchDir;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
using gm::test::ScopedEnv;

}  // namespace

TEST_CASE("machine config: limits never come from a file the environment names (GIT_CONFIG_SYSTEM)", "[git][machine]") {
    if (!test::running_as_root()) return;
    ScratchDir scratch;
    const git::Library library;
    const auto before = git::read_machine_config("model.");
    // Any user can point GIT_CONFIG_SYSTEM at a root-owned file (one with no limits lifts them,
    // one with high limits raises them): it is not read for the machine's settings.
    const auto file = scratch.path / "system.gitconfig";
    test::spit(file, "[model]\n\tmaxGpusPerUser = 99\n\tmaxLeaseHours = 999\n");
    ::chmod(file.c_str(), 0644);
    const ScopedEnv system("GIT_CONFIG_SYSTEM", file.string());
    const ScopedEnv nosystem("GIT_CONFIG_NOSYSTEM", "1");
    const auto machine = git::read_machine_config("model.");
    CHECK(machine.file != file);
    CHECK(machine.values == before.values);
    CHECK(machine.file == before.file);
    const auto limits = env::machine_limits();
    CHECK(limits.max_gpus_per_user != std::optional<int>(99));
    CHECK(limits.source != file.string());
}

TEST_CASE("machine config: a config text read by the caller parses as git would, errors name the file", "[git][machine]") {
    const git::Library library;
    const auto values = git::parse_config_text("# root's\n[model]\n\tmaxGpusPerUser = 2\n\tmaxLeaseHours = 48\n[user]\n\tname = x\n",
                                               "/book/config", "model.");
    CHECK(values.at("model.maxgpusperuser") == "2");
    CHECK(values.at("model.maxleasehours") == "48");
    CHECK(values.count("user.name") == 0);
    CHECK_THROWS_WITH(git::parse_config_text("[model\n", "/book/config", "model."), Catch::Contains("/book/config"));
    env::Limits limits;
    env::apply_limit_values(limits, values, "/book/config");
    CHECK(limits.max_gpus_per_user == 2);
    CHECK(limits.max_lease_hours == 48);
    CHECK(limits.source == "/book/config");
    CHECK_THROWS_WITH(env::apply_limit_values(limits, {{"model.maxgpusperuser", "many"}}, "/book/config"),
                      Catch::Contains("model.maxGpusPerUser in /book/config is 'many'"));
}
