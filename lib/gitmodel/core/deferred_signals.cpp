#include "gitmodel/core/deferred_signals.hpp"

#include <atomic>
#include <csignal>

namespace gm {

namespace {

std::atomic<int> remembered{0};

extern "C" void gm_remember_signal(int signal) { remembered = signal; }

}  // namespace

const int DeferSignals::signals_[DeferSignals::count_] = {SIGINT, SIGTERM, SIGHUP};

struct DeferSignals::Saved {
    struct sigaction actions[DeferSignals::count_];
};

DeferSignals::DeferSignals() : saved_(new Saved{}) {
    struct sigaction action {};
    action.sa_handler = gm_remember_signal;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < count_; ++i) {
        ::sigaction(signals_[i], nullptr, &saved_->actions[i]);
        // An ignored signal stays ignored: `nohup git model ...` must outlive the hang-up it asked to ignore.
        if (saved_->actions[i].sa_handler != SIG_IGN) ::sigaction(signals_[i], &action, nullptr);
    }
}

DeferSignals::~DeferSignals() {
    for (int i = 0; i < count_; ++i) ::sigaction(signals_[i], &saved_->actions[i], nullptr);
    delete saved_;
}

int DeferSignals::pending() { return remembered.load(); }

void DeferSignals::clear() { remembered = 0; }

void DeferSignals::raise_pending() {
    if (const int signal = remembered.load()) {
        std::signal(signal, SIG_DFL);
        std::raise(signal);
    }
}

}  // namespace gm
