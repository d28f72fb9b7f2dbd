#include "gitmodel/core/progress.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <unistd.h>

namespace gm {

bool progress_wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string title, std::string noun, std::size_t total, bool enabled)
    : title_(std::move(title)), noun_(std::move(noun)), total_(total), enabled_(enabled && total > 0) {}

Progress::~Progress() {
    if (open_) std::fputs("\n", stderr);
}

std::string Progress::line(std::size_t done, std::string_view detail) const {
    // Another user's text (a model name, a parameter) never reaches the terminal raw.
    return fmt::format("{}: {} {}/{}{}", title_, noun_, done, total_,
                       detail.empty() ? std::string() : " (" + printable(detail, 80) + ")");
}

void Progress::update(std::size_t done, std::string_view detail) {
    done_ = done;
    detail_ = std::string(detail);
    if (!enabled_) return;
    // \r back to the start, \x1b[K clears what a longer line before left.
    fmt::print(stderr, "\r{}\x1b[K", line(done, detail));
    std::fflush(stderr);
    open_ = true;
}

void Progress::note(std::string_view text) {
    if (!enabled_) {
        fmt::print(stderr, "{}\n", text);
        return;
    }
    fmt::print(stderr, "\r\x1b[K{}\n", text);
    if (open_) fmt::print(stderr, "{}\x1b[K", line(done_, detail_));
    std::fflush(stderr);
}

void Progress::finish() {
    if (!enabled_) return;
    fmt::print(stderr, "\r{}: {} {}/{}, done.\x1b[K\n", title_, noun_, done_, total_);
    std::fflush(stderr);
    open_ = false;
}

}  // namespace gm
