#include "gitmodel/gpu/pattern.hpp"
#include "gitmodel/gpu/verify.hpp"
#include "gitmodel/gpu/watchdog.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

using namespace gm::gpu;

namespace {

std::vector<float> triad_values(std::uint64_t first, std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pattern::triad_result(first + i);
    return v;
}

}  // namespace

TEST_CASE("correct triad output verifies, serially and over threads", "[gpu]") {
    for (std::size_t n : {std::size_t{10}, std::size_t{3} << 20}) {
        const auto values = triad_values(1000, n);
        const Verification v = verify_triad(1000, values.data(), values.size());
        CHECK(v.passed());
        CHECK(v.checked == n);
        CHECK(v.wrong == 0);
        CHECK(v.describe() == std::to_string(n) + " values correct");
    }
}

TEST_CASE("a wrong element anywhere fails, and the first is reported", "[gpu]") {
    auto values = triad_values(0, std::size_t{3} << 20);
    values[2'500'000] = -1.0f;
    values[700'001] = std::numeric_limits<float>::quiet_NaN();  // NaN is wrong too
    const Verification v = verify_triad(0, values.data(), values.size());
    CHECK_FALSE(v.passed());
    CHECK(v.wrong == 2);
    REQUIRE(v.first.has_value());
    CHECK(v.first->index == 700'001);
    CHECK(std::isnan(v.first->got));
    CHECK(v.describe().find("2 of 3145728 values wrong; first at element 700001") == 0);
}

TEST_CASE("output shifted by one element fails", "[gpu]") {
    const auto values = triad_values(1, 4096);  // what a kernel with an off-by-one index would write
    CHECK_FALSE(verify_triad(0, values.data(), values.size()).passed());
}

TEST_CASE("verifications merge across chunks", "[gpu]") {
    Verification total;
    auto a = triad_values(0, 100);
    auto b = triad_values(100, 100);
    b[5] = 0.5f;
    a[50] = 0.5f;
    total.merge(verify_triad(100, b.data(), b.size()));
    total.merge(verify_triad(0, a.data(), a.size()));
    CHECK(total.checked == 200);
    CHECK(total.wrong == 2);
    CHECK(total.first->index == 50);  // the lowest index, whatever the merge order
    CHECK_FALSE(Verification{}.passed());  // nothing checked is no pass
}

TEST_CASE("FMA and transfer outputs verify against their patterns", "[gpu]") {
    std::vector<float> fma(1000);
    for (std::uint32_t t = 0; t < fma.size(); ++t) fma[t] = pattern::fma_result(t, 4096);
    CHECK(verify_fma(0, fma.data(), fma.size(), 4096).passed());
    CHECK_FALSE(verify_fma(0, fma.data(), fma.size(), 4080).passed());  // iterations lost
    std::vector<float> copy(1000);
    for (std::size_t i = 0; i < copy.size(); ++i) copy[i] = pattern::transfer_value(i);
    CHECK(verify_transfer(0, copy.data(), copy.size()).passed());
    copy[999] = 0.0f;
    CHECK(verify_transfer(0, copy.data(), copy.size()).wrong == 1);
}

TEST_CASE("the watchdog fires for a step that overruns, naming it", "[gpu]") {
    std::atomic<int> fired{0};
    std::string name;
    int device = -2;
    long long limit_ms = 0;
    // Catch2 assertions are not thread-safe: the handler (on the watchdog thread) only records.
    Watchdog watchdog([&](const Step& step, std::chrono::milliseconds limit) {
        name = step.name;
        device = step.device;
        limit_ms = limit.count();
        ++fired;
    });
    {
        StepGuard guard(watchdog, Step{"memory bandwidth kernels", 1}, std::chrono::milliseconds(30));
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    CHECK(fired == 1);
    CHECK(watchdog.timeouts() == 1);
    CHECK(name == "memory bandwidth kernels");
    CHECK(device == 1);
    CHECK(limit_ms == 30);
}

TEST_CASE("the watchdog stays quiet for steps that finish in time", "[gpu]") {
    Watchdog watchdog([](const Step&, std::chrono::milliseconds) {});
    for (int i = 0; i < 20; ++i) {
        StepGuard guard(watchdog, Step{"quick step", 0}, std::chrono::milliseconds(200));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // A re-armed step gets a fresh deadline (the margins allow for a loaded CI machine).
    watchdog.arm(Step{"a", 0}, std::chrono::milliseconds(400));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    watchdog.arm(Step{"b", 0}, std::chrono::milliseconds(400));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    watchdog.disarm();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(watchdog.timeouts() == 0);
}
