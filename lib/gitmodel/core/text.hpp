#pragma once
// Small text helpers used across layers: suggestions for typos, joining, quoting.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm {

// Edit distance (with transpositions), the basis of every "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word when it is close enough to be a likely typo,
// so that unknown subcommands and config keys get a useful suggestion.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

// A commit id as messages show it: its first 10 hex digits, as `git log --abbrev=10` would.
std::string short_id(std::string_view id);

// A small file's whole content, empty when it cannot be opened (proc files, records, shims):
// for files whose absence means "nothing there"; a missing file that matters is checked first.
std::string read_text(const std::filesystem::path& path);

// Whether path lies below (or is) base, by their names alone (no link is resolved): a pure
// function of two names, here so that the configuration layer (and its fuzzer) has it too.
bool is_below(const std::filesystem::path& path, const std::filesystem::path& base);

// Whether two paths name one folder: the same name, in parent folders that are one once links are
// resolved (git records a worktree by its real path; model.worktreeRoot may lead through a link).
// The folder itself is not resolved: a link put in place of a worktree is not that worktree.
bool same_folder(const std::filesystem::path& a, const std::filesystem::path& b);

// The records of a program's output, each ended by separator ('\0' for git's -z, '\n' for lines):
// a last separator ends the last record rather than starting an empty one, and empty records
// between two separators are kept. The one reader of -z output, so none parses it differently.
std::vector<std::string> split_records(std::string_view text, char separator);

// The fields of text between separators, every one kept: "a,,b," is a, "", b, "" and "" is one
// empty field (for lists a user typed, where an empty entry is to be refused, and path parts).
std::vector<std::string> split_fields(std::string_view text, char separator);

// Whether text is a full object name as git prints it (SHA-1 or SHA-256, lower-case hex), for
// values read from files or hooks' input before they go to git as arguments.
bool is_object_id(std::string_view text);

// Whether c is one of '0'..'9': std::isdigit depends on the locale and takes an int that a
// negative char would make undefined.
constexpr bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// The last line of a program's output that is not blank, for a one-line detail of what it said.
std::string last_nonempty_line(std::string_view text);

// Joins items with a separator, for messages and tables.
std::string join(const std::vector<std::string>& items, std::string_view separator);

// Quotes a value for an error message so that white space and control bytes are visible.
std::string quote_for_message(std::string_view value);

// Text from another user (a lease's paths, a file name in a shared folder) made safe for a
// terminal or a log line: valid UTF-8 stays as it is; control characters (C0, DEL, C1), the
// Unicode direction overrides and bytes that are not UTF-8 become visible escapes (\n,
// \x1b, \u202e), so that nobody can send escape sequences to a reader's terminal or forge
// a line of a log. Longer than max_chars characters: cut, with "..." added.
std::string printable(std::string_view text, std::size_t max_chars = 256);

// Replaces every `from` in text with `to`, left to right (what is put in is not searched again):
// the placeholders of templates such as model.worktreePath and model.prune.archiveTag.
void replace_all(std::string& text, std::string_view from, std::string_view to);

// The text with every byte sequence that is not UTF-8 replaced by U+FFFD, so that a file
// name or path can go into JSON (which carries only UTF-8).
std::string valid_utf8(std::string_view text);

// Why text is not UTF-8 ("byte 0xe9 at 12 is not UTF-8"), or nullopt when it is: a path or a
// value git-model must record exactly (its records are JSON, which carries only UTF-8) is
// refused up front with this, before anything is made.
std::optional<std::string> non_utf8_problem(std::string_view text);

// Whether text starts with prefix (C++17 has no std::string::starts_with).
bool starts_with(std::string_view text, std::string_view prefix);

// Whether text ends with suffix.
bool ends_with(std::string_view text, std::string_view suffix);

// The text without the characters of `chars` at its end (any number, in any order), for the
// line breaks and blanks that end a program's output or a file's line.
std::string trim_end(std::string_view text, std::string_view chars);

// The text up to its first line break: a commit's subject, the first line of a program's message.
std::string first_line(const std::string& text);

// The text without its trailing line breaks ("\n" and "\r"): a program's one-line answer.
std::string trim_trailing_newlines(std::string_view text);

}  // namespace gm
