#include "gitmodel/hooks/attributes.hpp"

#include "gitmodel/naming/glob.hpp"

#include <sstream>

namespace gm::hooks {

namespace {

// The words of an attributes line; a leading "..." pattern is unquoted as git does (C-style escapes).
std::vector<std::string> split_line(std::string_view line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    const auto skip_blanks = [&] {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    };
    skip_blanks();
    if (i < line.size() && line[i] == '"') {
        std::string word;
        for (++i; i < line.size() && line[i] != '"'; ++i) {
            if (line[i] != '\\' || i + 1 >= line.size()) {
                word += line[i];
                continue;
            }
            const char next = line[++i];
            if (next >= '0' && next <= '7' && i + 2 < line.size()) {
                word += static_cast<char>((next - '0') * 64 + (line[i + 1] - '0') * 8 + (line[i + 2] - '0'));
                i += 2;
            } else {
                word += next == 'n' ? '\n' : next == 't' ? '\t' : next;
            }
        }
        ++i;
        words.push_back(word);
    }
    while (true) {
        skip_blanks();
        if (i >= line.size()) break;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
        words.emplace_back(line.substr(start, i - start));
    }
    return words;
}

// What an attribute word says about filter: nothing (nullopt), or the state it gives.
std::optional<std::optional<std::string>> filter_state(const std::string& word, const FilterMacros& macros) {
    if (word == "-filter" || word == "!filter") return std::optional<std::string>();
    if (word.rfind("filter=", 0) == 0) return std::optional<std::string>(word.substr(7));
    if (word == "filter") return std::optional<std::string>("true");  // set without a value: no driver named
    if (auto macro = macros.find(word); macro != macros.end()) return macro->second;
    return std::nullopt;
}

template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
    std::size_t at = 0;
    while (at < text.size()) {
        auto end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        visit(text.substr(at, end - at));
        at = end + 1;
    }
}

}  // namespace

FilterMacros parse_filter_macros(std::string_view text) {
    FilterMacros macros;
    for_each_line(text, [&](std::string_view line) {
        const auto words = split_line(line);
        if (words.empty() || words[0].rfind("[attr]", 0) != 0) return;
        std::optional<std::optional<std::string>> state;
        for (std::size_t i = 1; i < words.size(); ++i)
            if (auto s = filter_state(words[i], macros)) state = s;
        if (state) macros[words[0].substr(6)] = *state;
    });
    return macros;
}

AttributeFile parse_attribute_file(std::string_view text, std::string dir, const FilterMacros& macros) {
    AttributeFile file;
    file.dir = std::move(dir);
    for_each_line(text, [&](std::string_view line) {
        const auto words = split_line(line);
        if (words.empty() || words[0].empty() || words[0][0] == '#' || words[0].rfind("[attr]", 0) == 0) return;
        std::string pattern = words[0];
        if (pattern[0] == '!') return;              // git refuses negative patterns in attributes
        if (pattern.back() == '/') return;          // a folder pattern never matches the files inside it
        std::optional<std::optional<std::string>> state;
        for (std::size_t i = 1; i < words.size(); ++i)
            if (auto s = filter_state(words[i], macros)) state = s;
        if (!state) return;
        FilterRule rule;
        rule.basename_only = pattern.find('/') == std::string::npos;
        if (pattern[0] == '/') pattern.erase(0, 1);
        rule.pattern = std::move(pattern);
        rule.filter = *state;
        file.rules.push_back(std::move(rule));
    });
    return file;
}

std::optional<std::string> filter_for(std::string_view path, const std::vector<const AttributeFile*>& files) {
    for (const AttributeFile* file : files) {
        std::string_view relative = path;
        if (!file->dir.empty()) {
            if (path.size() <= file->dir.size() + 1 || path.compare(0, file->dir.size(), file->dir) != 0 ||
                path[file->dir.size()] != '/')
                continue;
            relative = path.substr(file->dir.size() + 1);
        }
        const auto slash = relative.rfind('/');
        const std::string_view name = slash == std::string_view::npos ? relative : relative.substr(slash + 1);
        for (auto rule = file->rules.rbegin(); rule != file->rules.rend(); ++rule) {
            if (naming::glob_match(rule->pattern, rule->basename_only ? name : relative)) return rule->filter;
        }
    }
    return std::nullopt;
}

std::vector<std::string> attribute_dirs(std::string_view path) {
    std::vector<std::string> dirs{""};
    for (std::size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1))
        dirs.emplace_back(path.substr(0, slash));
    return dirs;
}

}  // namespace gm::hooks
