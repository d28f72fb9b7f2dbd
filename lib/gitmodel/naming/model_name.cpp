#include "gitmodel/naming/model_name.hpp"

#include "gitmodel/naming/refname.hpp"

#include <fmt/core.h>

#include <string>

namespace gm::naming {

namespace {

bool is_lower_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

constexpr std::string_view shell_metacharacters = ";&|$`<>()*?[]{}!'\"~#=%^,:@+";

// Names the rule a single disallowed byte breaks.
std::string rule_for_byte(unsigned char c, std::size_t position) {
    if (c == '\n' || c == '\r') return fmt::format("contains a line break (at position {})", position + 1);
    if (c == ' ' || c == '\t' || c == '\v' || c == '\f')
        return fmt::format("contains white space (at position {})", position + 1);
    if (c < 0x20 || c == 0x7f)
        return fmt::format("contains the invisible control character 0x{:02x} (at position {})", c, position + 1);
    if (c >= 0x80) return fmt::format("contains a non-ASCII byte 0x{:02x} (at position {}); use ASCII only", c, position + 1);
    if (c >= 'A' && c <= 'Z')
        return fmt::format("contains the upper-case letter '{}'; model names are lower case", static_cast<char>(c));
    if (c == '/' || c == '\\')
        return fmt::format("contains the path separator '{}'; a model name is one path component", static_cast<char>(c));
    if (shell_metacharacters.find(static_cast<char>(c)) != std::string_view::npos)
        return fmt::format("contains the character '{}'; only a-z, 0-9, '.', '_' and '-' are allowed", static_cast<char>(c));
    return fmt::format("contains the character 0x{:02x}; only a-z, 0-9, '.', '_' and '-' are allowed", c);
}

}  // namespace

NameVerdict check_model_name(std::string_view name) {
    const auto broken = [](std::string rule) { return NameVerdict{false, std::move(rule)}; };
    if (name.empty()) return broken("is empty");
    if (name.front() == '-') return broken("begins with '-' (it would be read as an option)");
    if (!name.empty() && (name.back() == '\n'))
        return broken("ends with a newline (check how the name was produced, e.g. command substitution)");
    for (std::size_t i = 0; i < name.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (is_lower_alnum(c) || c == '.' || c == '_' || c == '-') continue;
        return broken(rule_for_byte(c, i));
    }
    if (name.size() > max_model_name_length)
        return broken(fmt::format("is {} characters long; at most {} are allowed", name.size(), max_model_name_length));
    if (!is_lower_alnum(static_cast<unsigned char>(name.front())))
        return broken("must begin with a letter or digit");
    if (!is_lower_alnum(static_cast<unsigned char>(name.back()))) return broken("must end with a letter or digit");
    if (name.find("..") != std::string_view::npos) return broken("contains '..'");
    if (name.size() >= 5 && name.substr(name.size() - 5) == ".lock") return broken("ends with '.lock'");
    const std::string ref = "refs/heads/" + model_branch(name);
    const RefnameVerdict verdict = check_refname(ref);
    if (!verdict.valid) return broken(fmt::format("gives the branch '{}', which git refuses: it {}", ref, verdict.reason));
    return {};
}

std::string model_branch(std::string_view model_name) {
    return std::string(model_branch_prefix) + std::string(model_name);
}

std::optional<std::string> model_from_branch(std::string_view branch) {
    if (branch.substr(0, model_branch_prefix.size()) != model_branch_prefix) return std::nullopt;
    std::string name(branch.substr(model_branch_prefix.size()));
    if (!check_model_name(name).valid) return std::nullopt;
    return name;
}

}  // namespace gm::naming
