#pragma once
// Multi-step changes (a model's start, a sweep's runs) must not be killed half
// way by Ctrl-C or a hang-up before they can roll back: while a DeferSignals
// lives, SIGINT, SIGTERM and SIGHUP are remembered instead of acted on, and
// the code checks between steps, undoes what it made, then re-raises. A signal the
// process was started with ignored (nohup, a background job of a script) stays ignored.

namespace gm {

// Remembers interrupting signals for its lifetime; restores the old handlers after.
class DeferSignals {
public:
    DeferSignals();
    ~DeferSignals();
    DeferSignals(const DeferSignals&) = delete;
    DeferSignals& operator=(const DeferSignals&) = delete;

    // The signal that arrived since the first DeferSignals was made, 0 if none.
    static int pending();
    // Forgets a remembered signal (a new operation starts).
    static void clear();
    // Ends the process with the remembered signal, as it would have ended (no-op when none).
    static void raise_pending();

private:
    static constexpr int count_ = 3;
    static const int signals_[count_];
    struct Saved;
    Saved* saved_;
};

}  // namespace gm
