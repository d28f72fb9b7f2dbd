#include "gitmodel/gpu/early_answer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

namespace gm::gpu {

namespace {

int answer_fd = -1;  // the child's end of the pipe to the waiting parent; -1 without a split

void flush_output() {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
}

// The parent's whole life after the fork: the child's code, or the child's own end.
[[noreturn]] void wait_for_answer(int from_child, pid_t child) {
    int code = 0;
    std::size_t got = 0;
    auto* bytes = reinterpret_cast<char*>(&code);
    while (got < sizeof code) {
        const ssize_t n = ::read(from_child, bytes + got, sizeof code - got);
        if (n > 0) got += static_cast<std::size_t>(n);
        else if (n == 0 || errno != EINTR) break;
    }
    if (got == sizeof code) ::_exit(code);
    // No answer: the child crashed, was killed, or became another program; end as it ended.
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) ::_exit(70);  // EX_SOFTWARE: the child is not ours to wait for
    }
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    const int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : SIGABRT;
    ::signal(signal_number, SIG_DFL);
    ::kill(::getpid(), signal_number);
    ::_exit(128 + signal_number);
}

}  // namespace

void split_answer_from_teardown() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    flush_output();  // nothing buffered may be written twice
    // An ignored SIGCHLD (inherited across exec from a caller's `trap '' CHLD`) would make the
    // child's end unwaitable: its code or signal must reach the caller when it dies unanswered.
    ::signal(SIGCHLD, SIG_DFL);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return;
    }
    if (child > 0) {
        ::close(fds[1]);
        wait_for_answer(fds[0], child);
    }
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the parent died before the line above: nobody waits
    answer_fd = fds[1];
}

void answer(int code) {
    flush_output();
    if (answer_fd < 0) return;
    ::prctl(PR_SET_PDEATHSIG, 0);  // the parent ends now; what is left (the teardown) must not be cut short
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        ::close(null);
    }
    const auto* bytes = reinterpret_cast<const char*>(&code);
    std::size_t sent = 0;
    while (sent < sizeof code) {
        const ssize_t n = ::write(answer_fd, bytes + sent, sizeof code - sent);
        if (n > 0) sent += static_cast<std::size_t>(n);
        else if (errno != EINTR) break;
    }
    ::close(answer_fd);
    answer_fd = -1;
}

}  // namespace gm::gpu
