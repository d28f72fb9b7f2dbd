#include "gitmodel/sweep/shelf.hpp"

#include "gitmodel/core/shell_word.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/unique_fd.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/sweep/promote.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

// A folder opened by walking `parts` below `root` one O_NOFOLLOW step at a time (created 0700
// where missing when `create`); errno is left set when it fails (ELOOP/ENOTDIR: a link or a file
// in the way, ENOENT: missing). `stopped` gets the part where the walk stopped.
UniqueFd open_folder(const fs::path& root, const fs::path& parts, bool create, fs::path* stopped = nullptr) {
    if (create && ::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) return UniqueFd();
    // The folder made (a shelf) is the caller's own, and no link: a teammate who may write beside
    // it (a group-shared repository) must not get the files moved into a folder of theirs.
    UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (create ? O_NOFOLLOW : 0)));
    struct stat st {};
    if (create && dir && (::fstat(dir.get(), &st) != 0 || st.st_uid != ::geteuid())) {
        if (stopped) *stopped = root;
        errno = EPERM;
        return UniqueFd();
    }
    fs::path at = root;
    for (const auto& part : parts) {
        if (!dir) break;
        at /= part;
        int fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
            if (::mkdirat(dir.get(), part.c_str(), 0700) != 0 && errno != EEXIST) return UniqueFd();
            fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        const int saved = errno;
        if (fd < 0 && stopped) *stopped = at;
        dir.reset(fd);
        errno = saved;
    }
    return dir;
}

// Whether two open files hold the same bytes (read from their starts).
bool same_bytes(int a, int b) {
    if (::lseek(a, 0, SEEK_SET) != 0 || ::lseek(b, 0, SEEK_SET) != 0) return false;
    static constexpr std::size_t size = 1 << 16;
    std::string x(size, '\0'), y(size, '\0');
    for (;;) {
        const ssize_t n = ::read(a, x.data(), size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        std::size_t got = 0;
        while (got < static_cast<std::size_t>(n)) {
            const ssize_t m = ::read(b, y.data() + got, static_cast<std::size_t>(n) - got);
            if (m < 0 && errno == EINTR) continue;
            if (m <= 0) return false;
            got += static_cast<std::size_t>(m);
        }
        if (n == 0) {
            char extra = 0;
            return ::read(b, &extra, 1) == 0;
        }
        if (x.compare(0, got, y, 0, got) != 0) return false;
    }
}

// Whether the regular files `name` in the folders `a` and `b` hold the same bytes (no link followed).
bool same_file_content(int a_dir, int b_dir, const char* name) {
    const UniqueFd a(::openat(a_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    const UniqueFd b(::openat(b_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat sa {}, sb {};
    if (!a || !b || ::fstat(a.get(), &sa) != 0 || ::fstat(b.get(), &sb) != 0 || !S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode))
        return false;
    return sa.st_size == sb.st_size && same_bytes(a.get(), b.get());
}

// rename without replacing: EEXIST when `to` is there. Falls back to link+unlink where the
// filesystem has no RENAME_NOREPLACE (link refuses to replace too).
int rename_no_replace(int from_dir, const char* from, int to_dir, const char* to) {
    if (::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (::linkat(from_dir, from, to_dir, to, 0) != 0) return -1;
    return ::unlinkat(from_dir, from, 0);
}

// Copies `name` from one folder to another on another filesystem, as move_carried_file says.
void copy_across(int from_dir, int to_dir, const std::string& name, const fs::path& from, const fs::path& to) {
    const UniqueFd source(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (!source || ::fstat(source.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(fmt::format("cannot read {}: {}", from.string(), source ? "not a regular file" : std::strerror(errno)));
    // A killed copy's is replaced. At most 213 bytes, whatever the name's length (up to 255).
    const std::string temporary = ".gm-shelving-" + name.substr(0, 200);
    ::unlinkat(to_dir, temporary.c_str(), 0);
    UniqueFd out(::openat(to_dir, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw Error(fmt::format("cannot create {}: {}", (to.parent_path() / temporary).string(), std::strerror(errno)));
    auto fail = [&](const std::string& what) {
        const int saved = errno;
        ::unlinkat(to_dir, temporary.c_str(), 0);
        return Error(fmt::format("cannot copy {} to {}: {}: {}", from.string(), to.string(), what, std::strerror(saved)));
    };
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(source.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw fail("read");
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = ::write(out.get(), buffer + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw fail("write");
            done += w;
        }
    }
    if (::fchmod(out.get(), st.st_mode & 07777) != 0) throw fail("chmod");
    if (::fsync(out.get()) != 0) throw fail("fsync");
    out.reset();
    if (rename_no_replace(to_dir, temporary.c_str(), to_dir, name.c_str()) != 0) throw fail("rename");
    ::fsync(to_dir);
    if (!same_file_content(from_dir, to_dir, name.c_str()))
        throw Error(fmt::format("the copy of {} at {} does not match it; both were kept", from.string(), to.string()));
    if (::unlinkat(from_dir, name.c_str(), 0) != 0)
        throw Error(fmt::format("copied {} to {} but cannot remove it: {}", from.string(), to.string(), std::strerror(errno)));
    ::fsync(from_dir);
}

// Removes the folders of `rel` under `root` that its move left empty (the run made them; a
// removal file by file would otherwise find them), deepest first, no link followed.
void remove_empty_folders(const fs::path& root, const std::string& rel) {
    for (fs::path folder = fs::path(rel).parent_path(); !folder.empty(); folder = folder.parent_path()) {
        const UniqueFd above = open_folder(root, folder.parent_path(), false);
        if (!above || ::unlinkat(above.get(), folder.filename().c_str(), AT_REMOVEDIR) != 0) return;
    }
}

}  // namespace

CarriedLook look_at_carried(const fs::path& root, const std::string& rel) {
    CarriedLook look;
    const fs::path path(rel);
    fs::path stopped;
    const UniqueFd dir = open_folder(root, path.parent_path(), false, &stopped);
    if (!dir) {
        const int why = errno;
        look.at = stopped;
        look.kind = why == ENOENT ? CarriedKind::absent : why == ELOOP ? CarriedKind::link : CarriedKind::other;
        struct stat st {};
        if (why == ENOTDIR && ::lstat(stopped.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) look.kind = CarriedKind::link;
        return look;
    }
    look.at = root / path;
    struct stat st {};
    if (::fstatat(dir.get(), path.filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        look.kind = errno == ENOENT ? CarriedKind::absent : CarriedKind::other;
    else
        look.kind = S_ISLNK(st.st_mode)   ? CarriedKind::link
                    : S_ISREG(st.st_mode) ? CarriedKind::file
                    : S_ISDIR(st.st_mode) ? CarriedKind::folder
                                          : CarriedKind::other;
    return look;
}

std::optional<std::string> shelf_conflict(const Sweep& sweep, const RunSpec& run, const std::string& rel) {
    const fs::path shelf = carried_shelf(sweep, run.number);
    const fs::path parent = fs::path(rel).parent_path();
    const UniqueFd from = open_folder(run.worktree, parent, false);
    const UniqueFd to = open_folder(shelf, parent, false);
    if (!from || !to) return std::nullopt;
    const std::string name = fs::path(rel).filename().string();
    struct stat st {};
    if (::fstatat(to.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
    if (same_file_content(from.get(), to.get(), name.c_str())) return std::nullopt;
    return fmt::format("its carried file {} differs from the copy shelved at {} by an earlier clean", rel,
                       (shelf / rel).string());
}

bool move_carried_file(const fs::path& from_root, const fs::path& to_root, const std::string& rel) {
    const fs::path path(rel);
    const std::string name = path.filename().string();
    const fs::path from = from_root / path, to = to_root / path;
    const UniqueFd from_dir = open_folder(from_root, path.parent_path(), false);
    if (!from_dir) return false;
    struct stat st {};
    if (::fstatat(from_dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return false;
    const UniqueFd to_dir = open_folder(to_root, path.parent_path(), true);
    if (!to_dir)
        throw Error(fmt::format("cannot make the folder for {} ({} must be a folder of yours, and nothing in it a link): {}",
                                to.string(), to_root.string(), std::strerror(errno)));
    // An earlier move killed after its copy was in place (a rename finds it too, but a copy
    // across file systems would only fail at its end): the same bytes let the source go.
    const auto finish_earlier_move = [&] {
        if (!same_file_content(from_dir.get(), to_dir.get(), name.c_str()))
            throw Error(fmt::format("{} differs from the copy already shelved at {}; both were kept", from.string(), to.string()));
        if (::unlinkat(from_dir.get(), name.c_str(), 0) != 0)
            throw Error(fmt::format("cannot remove {} (shelved at {}): {}", from.string(), to.string(), std::strerror(errno)));
        ::fsync(from_dir.get());
        return true;
    };
    struct stat there {};
    if (::fstatat(to_dir.get(), name.c_str(), &there, AT_SYMLINK_NOFOLLOW) == 0) return finish_earlier_move();
    if (rename_no_replace(from_dir.get(), name.c_str(), to_dir.get(), name.c_str()) == 0) {
        ::fsync(to_dir.get());
        ::fsync(from_dir.get());
        return true;
    }
    if (errno == EEXIST) return finish_earlier_move();
    if (errno != EXDEV) throw Error(fmt::format("cannot move {} to {}: {}", from.string(), to.string(), std::strerror(errno)));
    copy_across(from_dir.get(), to_dir.get(), name, from, to);
    return true;
}

std::vector<std::string> shelve_carried(const Sweep& sweep, const RunSpec& run) {
    std::vector<std::string> moved;
    const fs::path shelf = carried_shelf(sweep, run.number);
    for (const auto& rel : sweep.carry) {
        if (carry_path_problem(rel)) continue;
        if (look_at_carried(run.worktree, rel).kind != CarriedKind::file) continue;
        try {
            if (!move_carried_file(run.worktree, shelf, rel)) continue;
            moved.push_back(rel);
            remove_empty_folders(run.worktree, rel);
        } catch (const Error& e) {
            std::string shelved;
            for (const auto& done : moved) shelved += (shelved.empty() ? "" : ", ") + done;
            throw Error(fmt::format("its carried file {} could not be shelved: {}{}; its worktree was kept", rel, e.what(),
                                    shelved.empty() ? "" : fmt::format(" ({} went to {})", shelved, shelf.string())));
        }
    }
    return moved;
}

bool shelf_trusted(const Sweep& sweep, int number) {
    const fs::path shelf = carried_shelf(sweep, number);
    std::error_code ec;
    return fs::is_directory(fs::symlink_status(shelf, ec)) && !model::untrusted_folder_problem(sweep.common_dir, shelf);
}

std::string describe_carried(const std::vector<std::string>& paths) {
    std::string out;
    for (const auto& path : paths) out += (out.empty() ? "" : ", ") + hint_word(path);
    return out;
}

std::vector<std::string> shelved_carried(const Sweep& sweep, int number) {
    std::vector<std::string> found;
    if (!shelf_trusted(sweep, number)) return found;
    const fs::path shelf = carried_shelf(sweep, number);
    for (const auto& rel : sweep.carry)
        if (!carry_path_problem(rel) && look_at_carried(shelf, rel).kind == CarriedKind::file) found.push_back(rel);
    return found;
}

}  // namespace gm::sweep
