#include "gitmodel/core/random_id.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace gm {

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    std::size_t filled = 0;
    while (filled < bytes) {
        const ssize_t got = ::getrandom(buffer.data() + filled, bytes - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(fmt::format("cannot read the OS's random source: {}", std::strerror(errno)));
        }
        filled += static_cast<std::size_t>(got);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * bytes);
    for (unsigned char b : buffer) {
        hex += digits[b >> 4];
        hex += digits[b & 0xf];
    }
    return hex;
}

}  // namespace gm
