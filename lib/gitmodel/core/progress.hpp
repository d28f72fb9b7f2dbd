#pragma once
// Progress of long work on standard error, the way git shows it: one line rewritten in
// place ("Creating runs: run 37/100 (lr=1e-3)"), only when standard error is a terminal and
// the user did not ask for quiet, so that pipes, logs and scripts never see it.

#include <cstddef>
#include <string>
#include <string_view>

namespace gm {

// Whether progress may be shown: standard error is a terminal and quiet was not asked for.
bool progress_wanted(bool quiet);

// One progress line of a counted piece of work.
class Progress {
public:
    // title: what is being done ("Creating runs"); noun: what is counted ("run"); enabled:
    // progress_wanted(). A disabled Progress prints nothing at all.
    Progress(std::string title, std::string noun, std::size_t total, bool enabled);
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    // An unfinished line is ended, so that an error message starts on a line of its own.
    ~Progress();

    // Shows item `done` of the total, with what it is ("resnet50").
    void update(std::size_t done, std::string_view detail = {});
    // Prints a line of its own above the progress line (which is drawn again), e.g. what was done;
    // a disabled Progress prints it as a plain line.
    void note(std::string_view text);
    // Ends the line with ", done." as git does.
    void finish();

    // The line for item `done`, without the terminal controls (for tests and for the line itself).
    std::string line(std::size_t done, std::string_view detail) const;

private:
    std::string title_;
    std::string noun_;
    std::size_t total_ = 0;
    std::size_t done_ = 0;
    std::string detail_;
    bool enabled_ = false;
    bool open_ = false;  // a line is on the terminal without its newline
};

}  // namespace gm
