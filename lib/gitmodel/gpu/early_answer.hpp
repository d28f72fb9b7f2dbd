#pragma once
// The answer before the teardown. When a process that used a GPU ends, the kernel driver tears
// its contexts down, and whoever waits for the process (a terminal, the pre-push hook) waits for
// that too: 90-130 ms on an H200, more than all of `--quick`'s kernels (git-model-bench/README.md,
// "Measured where"). Nothing in user space can shorten it, so git-model-bench does its work in a
// child process: once the child's report is written, it closes its output and sends its exit
// code to the parent, which ends with that code at once while the child's teardown runs on with
// nobody waiting (the pattern of `git gc --auto`'s detached work, at a smaller scale).

namespace gm::gpu {

// Forks before anything touches the GPU. Returns in the child, which does the work and must end
// by calling answer(). The parent never returns: it ends with the code the child answers, or,
// when the child ends without answering (it crashed, or exec'd), with the child's own exit code
// or signal. The child dies with the parent (PR_SET_PDEATHSIG), so killing the parent before the
// answer still stops the work, as killing the one process did. When fork fails, returns in the
// only process and answer() only flushes.
void split_answer_from_teardown();

// In the child: flushes stdout and stderr, points both at /dev/null (so that a reader of a pipe
// sees its end now, not after the teardown) and sends code to the parent, which ends with it.
// What the process writes afterwards is not seen. Called again, or without a split, it only flushes.
void answer(int code);

}  // namespace gm::gpu
