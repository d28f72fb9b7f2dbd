#pragma once
// Errors and exit codes shared by every executable of the suite.
//
// Fatal problems travel as exceptions up to the one catch in each main, which
// prints "git-model: error: ..." plus an optional hint and exits with the
// error's code. The codes are documented in git-model(1).

#include <stdexcept>
#include <string>

namespace gm {

// The exit codes every executable documents; scripts and hooks rely on them.
enum class ExitCode : int {
    ok = 0,           // success
    failure = 1,      // the command failed or a policy rejected the request
    usage = 2,        // bad command line: unknown option, missing argument
    unavailable = 3,  // a GPU or container engine the command needs is absent
};

// A failure the user can act on: the message says what went wrong, the hint
// (optional) says what to do next.
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, std::string hint = {}, ExitCode code = ExitCode::failure)
        : std::runtime_error(std::move(message)), hint_(std::move(hint)), code_(code) {}

    // What to do next, printed on its own "hint:" line; empty when obvious.
    const std::string& hint() const noexcept { return hint_; }
    // The process exit code this error maps to.
    ExitCode code() const noexcept { return code_; }

private:
    std::string hint_;
    ExitCode code_;
};

// A bad command line (exit 2), so that scripts can tell misuse from failure.
class UsageError : public Error {
public:
    explicit UsageError(std::string message, std::string hint = {})
        : Error(std::move(message), std::move(hint), ExitCode::usage) {}
};

// A missing GPU or container engine (exit 3): the request was fine, the machine cannot serve it.
class UnavailableError : public Error {
public:
    explicit UnavailableError(std::string message, std::string hint = {})
        : Error(std::move(message), std::move(hint), ExitCode::unavailable) {}
};

}  // namespace gm
