#pragma once
// Quoting for the scripts we generate (Slurm batch scripts, Kubernetes pod commands, CI
// pipelines, GIT_MODEL_TRACE lines): one rule, so that every word a POSIX shell reads back
// is exactly the word we meant.

#include <string>
#include <string_view>

namespace gm {

// When a word may stay bare.
enum class Quoting {
    always,     // always in single quotes (paths and values whatever they hold)
    when_needed // bare when it holds only characters no shell treats specially, else in single quotes
};

// One word for a POSIX shell: single-quoted, each ' written as '\''; with Quoting::when_needed
// a non-empty word of only [A-Za-z0-9@%_+=:,./-] stays as it is.
std::string shell_word(std::string_view word, Quoting quoting = Quoting::always);

// A word (a path, a branch) in a command a hint asks the user to copy: shell_word with
// Quoting::when_needed, so a plain path reads as a person would type it and an odd one still
// pastes as the one word it is.
std::string hint_word(std::string_view word);

}  // namespace gm
