#include "gitmodel/core/shell_word.hpp"

namespace gm {

std::string shell_word(std::string_view word, Quoting quoting) {
    if (quoting == Quoting::when_needed && !word.empty() &&
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "@%_+=:,./-") == std::string_view::npos)
        return std::string(word);
    std::string out = "'";
    for (char c : word) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

std::string hint_word(std::string_view word) { return shell_word(word, Quoting::when_needed); }

}  // namespace gm
