#pragma once
// The bench's thresholds from .modelenv.yaml's `bench:` section, found the way
// a user expects: in the folder the bench runs in or the nearest one above it,
// up to the repository's top, so that `git model bench` anywhere in a worktree
// (and inside an environment, at its workdir) applies the model's thresholds.

#include <filesystem>
#include <optional>

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/gpu/thresholds.hpp"

namespace gm::gpu {

// The nearest .modelenv.yaml from start upwards, stopping at a folder that holds .git.
std::optional<std::filesystem::path> find_modelenv(const std::filesystem::path& start);

// The thresholds a loaded file sets (unset ones stay unset, so flags and defaults fill them).
Thresholds thresholds_from(const config::BenchThresholds& bench);

}  // namespace gm::gpu
