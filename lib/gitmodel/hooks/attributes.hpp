#pragma once
// The "filter" attribute of a path in a commit that is not checked out, read
// from that commit's .gitattributes files the way git reads them (git 2.39 has
// no `check-attr --source`): the pre-push data check needs to know which pushed
// paths Git LFS should have stored.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gm::hooks {

// One line of an attributes file that says something about "filter".
struct FilterRule {
    std::string pattern;                // without a leading '/'
    bool basename_only = false;         // no '/' in the pattern: it matches the file name at any depth
    std::optional<std::string> filter;  // filter=<value>; nullopt for -filter and !filter
};

// The "filter" rules of one attributes file and the folder it applies to.
struct AttributeFile {
    std::string dir;  // "" for the root (and for $GIT_DIR/info/attributes), else "a/b"
    std::vector<FilterRule> rules;
};

// Macros ([attr]name ...) that set or clear filter: name -> the filter they give.
using FilterMacros = std::map<std::string, std::optional<std::string>>;

// The macros an attributes file defines (git honours them in the root file and info/attributes only).
FilterMacros parse_filter_macros(std::string_view text);

// The filter rules of one attributes file found in folder dir.
AttributeFile parse_attribute_file(std::string_view text, std::string dir, const FilterMacros& macros);

// The filter of a path, from its attributes files ordered from the most
// important (info/attributes, then the deepest folder) to the root; within a
// file the last matching line wins. nullopt when none sets it.
std::optional<std::string> filter_for(std::string_view path, const std::vector<const AttributeFile*>& files);

// The folders whose .gitattributes apply to a path, root first ("", "a", "a/b" for a/b/c.pt).
std::vector<std::string> attribute_dirs(std::string_view path);

}  // namespace gm::hooks
