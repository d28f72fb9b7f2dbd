#include "gitmodel/gpu/verify.hpp"

#include "gitmodel/gpu/pattern.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace gm::gpu {

void Verification::merge(const Verification& other) {
    checked += other.checked;
    wrong += other.wrong;
    if (other.first && (!first || other.first->index < first->index)) first = other.first;
}

std::string Verification::describe() const {
    if (checked == 0) return "nothing was verified";
    const std::string where =
        host_sample > 0 && host_sample < checked ? fmt::format(" (all on the GPU, the first {} on the host too)", host_sample) : "";
    if (wrong == 0) return fmt::format("{} values correct{}", checked, where);
    std::string out = fmt::format("{} of {} values wrong", wrong, checked);
    if (first) out += fmt::format("; first at element {}: got {}, expected {}", first->index, first->got, first->expected);
    return out + where;
}

Verification confirm_on_host(const Verification& on_gpu, const Verification& on_host) {
    Verification out = on_gpu;
    out.checked = std::max(on_gpu.checked, on_host.checked);
    out.wrong = std::max(on_gpu.wrong, on_host.wrong);
    out.host_sample = on_host.checked;
    if (on_host.first && (!out.first || on_host.first->index < out.first->index)) out.first = on_host.first;
    return out;
}

namespace {

// Compares values[0..count) with expected(first + i) on one thread.
template <class Expected>
Verification verify_serial(std::uint64_t first, const float* values, std::size_t count, const Expected& expected) {
    Verification v;
    v.checked = count;
    // A branch-free counting pass (the common, all-correct case), then a search for the first
    // wrong element only when there is one. != is true for NaN, so a NaN result counts as wrong.
    std::uint64_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) wrong += values[i] != expected(first + i) ? 1 : 0;
    v.wrong = wrong;
    for (std::size_t i = 0; wrong > 0 && i < count; ++i) {
        const float want = expected(first + i);
        if (values[i] != want) {
            v.first = Mismatch{first + i, values[i], want};
            break;
        }
    }
    return v;
}

// Splits a large chunk over up to 8 threads (at least 256 Ki elements each, so that starting a
// thread costs far less than its share); small chunks stay on the caller's thread.
template <class Expected>
Verification verify_parallel(std::uint64_t first, const float* values, std::size_t count, const Expected& expected) {
    constexpr std::size_t per_thread_minimum = std::size_t{1} << 18;
    const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t threads = std::min<std::size_t>({8, hardware, count / per_thread_minimum});
    if (threads <= 1) return verify_serial(first, values, count, expected);
    std::vector<Verification> parts(threads);
    std::vector<std::thread> workers;
    const std::size_t slice = (count + threads - 1) / threads;
    for (std::size_t t = 0; t < threads; ++t) {
        const std::size_t begin = std::min(count, t * slice);
        const std::size_t n = std::min(count, begin + slice) - begin;
        workers.emplace_back([&, t, begin, n] { parts[t] = verify_serial(first + begin, values + begin, n, expected); });
    }
    Verification total;
    for (std::size_t t = 0; t < threads; ++t) {
        workers[t].join();
        total.merge(parts[t]);
    }
    return total;
}

}  // namespace

Verification verify_triad(std::uint64_t first, const float* values, std::size_t count) {
    return verify_parallel(first, values, count, [](std::uint64_t i) { return pattern::triad_result(i); });
}

Verification verify_fma(std::uint64_t first, const float* values, std::size_t count, std::uint32_t iterations) {
    return verify_parallel(first, values, count, [iterations](std::uint64_t i) {
        return pattern::fma_result(static_cast<std::uint32_t>(i), iterations);
    });
}

Verification verify_transfer(std::uint64_t first, const float* values, std::size_t count) {
    return verify_parallel(first, values, count, [](std::uint64_t i) { return pattern::transfer_value(i); });
}

}  // namespace gm::gpu
