#include "gitmodel/core/report.hpp"

#include "gitmodel/core/error.hpp"

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <new>

namespace gm {

void report_error(std::string_view program, const Error& error) {
    fmt::print(stderr, "{}: error: {}\n", program, error.what());
    if (!error.hint().empty()) fmt::print(stderr, "hint: {}\n", error.hint());
}

int run_reporting_errors(std::string_view program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Error& e) {
        report_error(program, e);
        return static_cast<int>(e.code());
    } catch (const nlohmann::json::type_error& e) {
        // 316: a name, path or value that is not UTF-8 met a JSON record; the ones the suite knows
        // of are refused before anything is made, this says what any other is.
        if (e.id != 316) {
            fmt::print(stderr, "{}: error: {}\n", program, e.what());
            return static_cast<int>(ExitCode::failure);
        }
        fmt::print(stderr, "{}: error: a name, path or value that is not UTF-8 text cannot be recorded (git-model's "
                           "records are JSON, which holds only UTF-8): {}\n",
                   program, e.what());
        fmt::print(stderr, "hint: give the folder, file or branch a UTF-8 name (a shell with a UTF-8 locale writes "
                           "them so)\n");
        return static_cast<int>(ExitCode::failure);
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
