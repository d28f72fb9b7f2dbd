#pragma once
// Git's own ref-name rules (refs.c: check_refname_format), reimplemented as
// pure logic so that names can be checked before anything touches a repository
// and so that hooks can judge pushed refs without spawning git.

#include <string>
#include <string_view>

namespace gm::naming {

// The options of `git check-ref-format` that change the verdict.
struct RefnameFlags {
    bool allow_onelevel = false;   // --allow-onelevel: "foo" is accepted
    bool refspec_pattern = false;  // --refspec-pattern: one '*' is accepted
};

// The verdict on a ref name: valid, or the rule it breaks in words a user understands.
struct RefnameVerdict {
    bool valid = true;
    std::string reason;  // empty when valid
};

// Checks a full ref name ("refs/heads/feature/model-x") exactly as git does.
RefnameVerdict check_refname(std::string_view refname, RefnameFlags flags = {});

}  // namespace gm::naming
