#pragma once
// Small helpers that several unit test files need: one definition each, since the sanitizer
// builds compile the tests as unity files, where two files' helpers of one name would collide.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gm::test {

// Whether text holds part, for checks on messages.
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The item of a list whose .name is name (a GPU's check, a step), or nullptr.
template <class List>
auto find_named(const List& list, const std::string& name) -> decltype(&*list.begin()) {
    for (const auto& item : list)
        if (item.name == name) return &item;
    return nullptr;
}

// A GPU device report's check of that name, or nullptr.
template <class Device>
auto find_check(const Device& device, const std::string& name) {
    return find_named(device.checks, name);
}

// A file's whole content ("" when it cannot be read), to check what a function wrote.
inline std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Sets environment variables for one test and puts back what was there before (or nothing).
struct ScopedEnv {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    explicit ScopedEnv(const std::vector<std::pair<std::string, std::string>>& values) {
        for (const auto& [name, value] : values) {
            const char* old = std::getenv(name.c_str());
            saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ScopedEnv(const std::string& name, const std::string& value) : ScopedEnv({{name, value}}) {}
    ~ScopedEnv() {
        for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
};

}  // namespace gm::test
