#include "gitmodel/core/report.hpp"

#include "gitmodel/core/error.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <new>

namespace gm {

int run_reporting_errors(std::string_view program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Error& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        if (!e.hint().empty()) fmt::print(stderr, "hint: {}\n", e.hint());
        return static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}: error: out of memory\n", program);
        return static_cast<int>(ExitCode::failure);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return static_cast<int>(ExitCode::failure);
    }
}

void warn(std::string_view program, std::string_view message) {
    fmt::print(stderr, "{}: warning: {}\n", program, message);
}

}  // namespace gm
