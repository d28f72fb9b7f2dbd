#include "gitmodel/gpu/watchdog.hpp"

#include <utility>

namespace gm::gpu {

Watchdog::Watchdog(Handler on_timeout) : on_timeout_(std::move(on_timeout)), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void Watchdog::arm(Step step, std::chrono::milliseconds limit) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        step_ = std::move(step);
        limit_ = limit;
        deadline_ = std::chrono::steady_clock::now() + limit;
        armed_ = true;
    }
    changed_.notify_all();
}

void Watchdog::disarm() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        armed_ = false;
    }
    changed_.notify_all();
}

int Watchdog::timeouts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return timeouts_;
}

void Watchdog::watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        if (!armed_) {
            changed_.wait(lock);
            continue;
        }
        const auto deadline = deadline_;
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && armed_ && !stopping_ &&
            deadline_ == deadline && std::chrono::steady_clock::now() >= deadline) {
            armed_ = false;
            ++timeouts_;
            on_timeout_(step_, limit_);
        }
    }
}

StepGuard::StepGuard(Watchdog& watchdog, Step step, std::chrono::milliseconds limit) : watchdog_(watchdog) {
    watchdog_.arm(std::move(step), limit);
}

StepGuard::~StepGuard() { watchdog_.disarm(); }

}  // namespace gm::gpu
