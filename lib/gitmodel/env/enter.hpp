#pragma once
// `git model env exec` and `env shell`: a command run in the environment's container through the
// engine's `exec`, whose client passes no signal on. A command stopped with SIGTERM or Ctrl-C
// from a script (no terminal) went on running in the container, on the model's GPUs, unseen.

#include <string>
#include <vector>

#include "gitmodel/env/engine.hpp"

namespace gm::env {

// Runs command in the running container (flags: the engine's exec options, --interactive and
// --tty), with our stdin, stdout and stderr, and returns its exit status. SIGINT, SIGTERM and
// SIGHUP sent to this process reach the command and everything it started in the container
// (found by a random GIT_MODEL_EXEC value in their environment), as a shell's signal reaches a
// foreground job; when they cannot be found (an engine on another host), a line on stderr says
// that the command may still run.
int run_in_container(const Engine& engine, const std::string& container, const std::vector<std::string>& flags,
                     const std::vector<std::string>& command);

}  // namespace gm::env
