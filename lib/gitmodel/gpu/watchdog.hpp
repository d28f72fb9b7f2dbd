#pragma once
// Time limits for GPU steps. A hung GPU or driver (it happens after Xid errors) blocks inside a
// CUDA call that nothing can cancel, so the bench cannot wait for it: a watchdog thread watches
// the step in progress and, past its deadline, runs a handler that reports the hang and ends the
// process (git-model-bench's handler calls _exit).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace gm::gpu {

// A step being timed: what it is and which GPU it concerns, for the message that names it.
struct Step {
    std::string name;  // e.g. "memory bandwidth kernels"
    int device = -1;   // the GPU; -1 for machine-wide steps such as CUDA initialisation
};

// Watches one step at a time on its own thread.
class Watchdog {
public:
    // Called on the watchdog thread when a step overruns its limit. It runs with the watchdog's
    // lock held, so disarm() waits for it to return; it must not call the watchdog itself.
    using Handler = std::function<void(const Step& step, std::chrono::milliseconds limit)>;

    // Starts the watching thread (idle until arm()).
    explicit Watchdog(Handler on_timeout);
    // Stops and joins the thread.
    ~Watchdog();
    // Not copyable: the thread refers to this object.
    Watchdog(const Watchdog&) = delete;
    // See the copy constructor.
    Watchdog& operator=(const Watchdog&) = delete;

    // Starts timing a step; it must end (disarm) within limit or the handler runs.
    void arm(Step step, std::chrono::milliseconds limit);
    // Ends the current step in time; a no-op when nothing is armed.
    void disarm();
    // How many times the handler ran, for tests.
    int timeouts() const;

private:
    // The thread's loop: sleeps until a deadline or a change, fires the handler on overrun.
    void watch();

    Handler on_timeout_;                              // what to do on overrun
    mutable std::mutex mutex_;                        // guards everything below but thread_
    std::condition_variable changed_;                 // wakes the thread on arm/disarm/stop
    bool armed_ = false;                              // a step is being timed
    bool stopping_ = false;                           // the destructor asks the thread to end
    Step step_;                                       // the step being timed
    std::chrono::milliseconds limit_{0};              // its limit, for the message
    std::chrono::steady_clock::time_point deadline_;  // when it overruns
    int timeouts_ = 0;                                // handler runs so far
    std::thread thread_;                              // the watching thread (last: starts after the rest)
};

// Arms a watchdog for the lifetime of a scope, so that every exit path disarms it.
class StepGuard {
public:
    // Arms watchdog for step with limit.
    StepGuard(Watchdog& watchdog, Step step, std::chrono::milliseconds limit);
    // Disarms.
    ~StepGuard();
    // Not copyable: one guard, one disarm.
    StepGuard(const StepGuard&) = delete;
    // See the copy constructor.
    StepGuard& operator=(const StepGuard&) = delete;

private:
    Watchdog& watchdog_;  // the watchdog to disarm
};

}  // namespace gm::gpu
