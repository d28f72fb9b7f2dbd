#pragma once
// A directory listing (opendir/fdopendir) owned by one object, so that no early
// return or exception while reading it leaks the DIR and its descriptor.

#include <dirent.h>

#include <memory>

namespace gm {

// Closes a DIR* with closedir (which also closes the descriptor fdopendir took).
struct DirCloser {
    void operator()(DIR* dir) const noexcept {
        if (dir) ::closedir(dir);
    }
};

// Owns one open directory listing; empty when opendir failed.
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace gm
