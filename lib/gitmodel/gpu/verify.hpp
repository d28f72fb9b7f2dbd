#pragma once
// Verification of every kernel's output against values recomputed from gitmodel/gpu/pattern.hpp:
// exact comparisons, so one wrong element fails the verdict. The FMA and copy results are
// recomputed on the host; the bandwidth outputs (gigabytes) on the GPU, with a sample on the host.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace gm::gpu {

// One wrong element, kept to show the user where and how it went wrong.
struct Mismatch {
    std::uint64_t index = 0;  // element index in the output
    float got = 0.0f;         // what the GPU wrote
    float expected = 0.0f;    // what it should have written
};

// The tally of a verification, merged chunk by chunk and thread by thread.
struct Verification {
    std::uint64_t checked = 0;      // elements compared
    std::uint64_t wrong = 0;        // elements that differ (NaN counts as wrong)
    std::optional<Mismatch> first;  // the lowest-index wrong element
    std::uint64_t host_sample = 0;  // of `checked` (compared on the GPU), how many the host recomputed too

    // Whether everything compared equal and something was compared at all.
    bool passed() const { return wrong == 0 && checked > 0; }
    // Adds another tally (of a disjoint range).
    void merge(const Verification& other);
    // "67108864 values correct" or "3 of 67108864 values wrong; first at 17: got 2, expected 5".
    std::string describe() const;
};

// Joins the GPU's check of a whole output with the host's recomputation of a sample of it: the
// count is the GPU's, the errors the worse of the two (a GPU whose own check misses errors the
// host sees still fails), the first error the lowest index either found.
Verification confirm_on_host(const Verification& on_gpu, const Verification& on_host);

// Checks a chunk of the triad output (or of its copy) starting at element `first`. Large chunks
// are split over threads: full mode verifies hundreds of MiB within its time budget.
Verification verify_triad(std::uint64_t first, const float* values, std::size_t count);

// Checks a chunk of the FMA kernel's per-thread results after `iterations` steps.
Verification verify_fma(std::uint64_t first, const float* values, std::size_t count, std::uint32_t iterations);

// Checks a chunk of the host<->device round trip.
Verification verify_transfer(std::uint64_t first, const float* values, std::size_t count);

}  // namespace gm::gpu
