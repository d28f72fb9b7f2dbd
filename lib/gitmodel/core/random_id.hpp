#pragma once
// Identifiers nobody can guess (lease ids, tokens, temporary names), read from the OS's
// random source, so that another user can neither predict nor collide with them.

#include <cstddef>
#include <string>

namespace gm {

// `bytes` random bytes from getrandom(2) as lower-case hex (2 * bytes characters); throws
// gm::Error when the OS has no random source to give.
std::string random_hex(std::size_t bytes);

}  // namespace gm
