#include "gitmodel/env/environment.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/deferred_signals.hpp"
#include "gitmodel/core/duration.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/report.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/env/bench_results.hpp"
#include "gitmodel/env/container.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/env/gpus.hpp"
#include "gitmodel/env/image.hpp"
#include "gitmodel/env/lease_book.hpp"
#include "gitmodel/env/ports.hpp"
#include "gitmodel/env/state.hpp"
#include "gitmodel/env/user.hpp"
#include "gitmodel/model/lookup.hpp"
#include "gitmodel/model/repository_lock.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"
#include "gitmodel/proc/identity.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/git/team_file.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


namespace {

// FNV-1a: a short, stable fingerprint of the repository's path for container names.
std::string short_hash(const std::string& text) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return fmt::format("{:08x}", static_cast<std::uint32_t>(hash ^ (hash >> 32)));
}

std::string sanitize_name(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
        else if (c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
        else out += '-';
    }
    while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
    if (out.size() > 40) out.resize(40);
    return out.empty() ? "repo" : out;
}

// Writes a file only its owner can read (for tokens and the env file), or with another mode.
void write_private_file(const fs::path& path, const std::string& content, mode_t mode = 0600) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    const bool ok = ::fchmod(fd, mode) == 0 &&
                    ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    const int saved = errno;
    ::close(fd);
    if (!ok) throw Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(saved)));
}

std::chrono::seconds duration_key(const git::Config& config, const char* key, std::chrono::seconds fallback) {
    const auto seconds = git::duration_setting(config, key, "use e.g. 10s, 2m or 1h");
    return seconds ? std::chrono::seconds(*seconds) : fallback;
}

std::string endpoint_url(const std::string& name, const std::string& address, int port,
                         const std::string& login = "root") {
    const std::string host = address == "0.0.0.0" ? "127.0.0.1" : address;
    if (name == "jupyter") return fmt::format("http://{}:{}/lab", host, port);
    if (name == "tensorboard" || name == "http" || name == "web") return fmt::format("http://{}:{}/", host, port);
    if (name == "ssh") return fmt::format("ssh -p {} {}@{}", port, login.empty() ? "root" : login, host);
    return fmt::format("{}:{}", host, port);
}

std::string encode_ports(const std::vector<PublishedPort>& ports) {
    std::vector<std::string> items;
    for (const auto& p : ports) items.push_back(fmt::format("{}={}:{}:{}", p.name, p.host_address, p.host_port, p.container_port));
    return join(items, ",");
}

std::vector<Endpoint> decode_ports(const std::string& text, const std::string& login = "root") {
    std::vector<Endpoint> out;
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto eq = item.find('=');
        const auto last = item.rfind(':');
        const auto mid = item.rfind(':', last == std::string::npos || last == 0 ? 0 : last - 1);
        if (eq == std::string::npos || last == std::string::npos || mid == std::string::npos || mid <= eq) continue;
        Endpoint e;
        e.name = item.substr(0, eq);
        e.host_address = item.substr(eq + 1, mid - eq - 1);
        e.host_port = std::atoi(item.substr(mid + 1, last - mid - 1).c_str());
        e.container_port = std::atoi(item.substr(last + 1).c_str());
        e.url = endpoint_url(e.name, e.host_address, e.host_port, login);
        out.push_back(e);
    }
    return out;
}

fs::path state_dir(const Target& target) { return env::state_dir(target.common_dir, target.model); }

fs::path resolve_persist(const Target& target, const std::optional<config::PersistPath>& configured, const char* kind,
                         const config::Placeholders& placeholders) {
    if (!configured) return target.common_dir / "git-model" / "persist" / target.model / kind;
    fs::path path(config::expand_placeholders(configured->path, placeholders));
    if (configured->relative) path = target.worktree / path;
    return path.lexically_normal();
}

// The user's public keys, for key-only SSH into the container.
std::string authorized_keys(const git::Config& config) {
    std::string keys;
    if (auto file = config.get_string("model.sshAuthorizedKeys")) {
        std::ifstream in(*file);
        if (!in) throw Error(fmt::format("model.sshAuthorizedKeys names {}, which cannot be read", *file));
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }
    const char* home = std::getenv("HOME");
    std::error_code ec;
    if (home) {
        for (const auto& entry : fs::directory_iterator(fs::path(home) / ".ssh", ec)) {
            if (entry.path().extension() != ".pub") continue;
            std::ifstream in(entry.path());
            std::ostringstream text;
            text << in.rdbuf();
            keys += text.str();
            if (!keys.empty() && keys.back() != '\n') keys += '\n';
        }
    }
    return keys;
}

fs::path find_bench_binary() {
    const fs::path beside = proc::current_executable().parent_path() / "git-model-bench";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
    if (auto found = proc::find_program("git-model-bench")) return *found;
    return {};
}

constexpr const char* bench_in_container = "/opt/git-model/bin/git-model-bench";

}  // namespace

std::string container_name(const fs::path& common_dir, const fs::path& main_worktree, const std::string& model) {
    return fmt::format("gm-{}-{}-{}", sanitize_name(main_worktree.filename().string()), model,
                       short_hash(common_dir.lexically_normal().string()));
}

void require_own_container(const ContainerInfo& info, const Target& target, const Engine& engine) {
    require_own_container(info, target, engine, ::geteuid());
}

void require_own_container(const ContainerInfo& info, const Target& target, const Engine& engine, uid_t caller) {
    const auto label_of = [&](const char* key) {
        const auto found = info.labels.find(key);
        return found == info.labels.end() ? std::string() : found->second;
    };
    std::string why;
    if (label_of(label::managed) != "1") why = "it has no git-model labels";
    else if (label_of(label::repo) != target.common_dir.string())
        why = fmt::format("it is labelled for the repository {}", printable(label_of(label::repo)));
    else if (label_of(label::model) != target.model)
        why = fmt::format("it is labelled for the model '{}'", printable(label_of(label::model)));
    if (why.empty()) {
        const std::string owner = label_of(label::owner);
        if (owner.empty() || owner == std::to_string(caller) || caller == 0) return;
        uid_t uid = 0;
        const bool numeric = owner.find_first_not_of("0123456789") == std::string::npos && owner.size() <= 9;
        if (numeric) uid = static_cast<uid_t>(std::stoul(owner));
        const std::string who = numeric ? user_name_of(uid) : printable(owner, 32);
        throw Error(fmt::format("the environment of '{}' is {}'s: they started the container {} through this engine, "
                                "which you share with them; nothing was changed",
                                target.model, who, info.name),
                    fmt::format("only {} (git model env down there) or root can take it down", who));
    }
    throw Error(fmt::format("the container {} was not made by git model for the environment of '{}' here ({}); "
                            "nothing was changed",
                            info.name, target.model, why),
                fmt::format("it holds the environment's name: `{} rm -f {}` removes it, if it is yours to remove",
                            engine.name, info.name));
}

std::optional<std::filesystem::path> launched_here_before_move(const fs::path& common_dir, const ContainerInfo& info) {
    const auto label_of = [&](const char* key) {
        const auto found = info.labels.find(key);
        return found == info.labels.end() ? std::string() : found->second;
    };
    const std::string model = label_of(label::model);
    const std::string start = label_of(label::start);
    const fs::path old_place = label_of(label::repo);
    if (label_of(label::managed) != "1" || model.empty() || start.empty() || old_place.empty() || old_place == common_dir)
        return std::nullopt;
    const auto launch = read_launch(common_dir, model);
    if (!launch || launch->start != start || launch->container != info.name) return std::nullopt;
    // Moved, not copied: the same folder (a copy's launch record names the original's).
    if (launch->place_id.empty() || launch->place_id != place_id(common_dir)) return std::nullopt;
    // A hard-linked or bind-mounted second path to it: the old place, still there, is this very repository.
    if (const auto there = read_launch(old_place, model); there && there->start == start) return std::nullopt;
    return old_place;
}

std::optional<MovedEnvironment> moved_environment(const Engine& engine, const Target& target) {
    const auto launch = read_launch(target.common_dir, target.model);
    if (!launch || launch->container.empty() || launch->container == target.container) return std::nullopt;
    auto info = find_container(engine, launch->container);
    if (!info) return std::nullopt;
    const auto model = info->labels.find(label::model);
    if (model == info->labels.end() || model->second != target.model) return std::nullopt;
    auto old_place = launched_here_before_move(target.common_dir, *info);
    if (!old_place) return std::nullopt;
    return MovedEnvironment{std::move(*info), std::move(*old_place)};
}

Target resolve_target(git::Repository& repo, const std::optional<std::string>& model, WorktreeUse use) {
    Target target;
    target.common_dir = repo.common_dir();
    const fs::path main = repo.main_worktree_or_common_dir();
    if (model) {
        // One branch and one worktree looked up, not every model listed.
        model::require_model_name(*model, "");
        const std::string branch = naming::model_branch(*model);
        target.model = *model;
        target.branch = branch;
        target.container = container_name(target.common_dir, main, target.model);
        if (!repo.branch_exists(branch)) {
            // Its environment may outlive it (branch -D while it ran): down still finds it by name.
            if (use == WorktreeUse::optional) {
                target.branch_gone = true;
                return target;
            }
            throw Error(fmt::format("there is no model '{}' in this repository", *model), "`git model list` shows the models");
        }
        const auto checkout = model::worktree_of(repo, branch);
        const bool usable = checkout && !checkout->missing && !checkout->locked;
        if (!usable && use == WorktreeUse::optional) return target;
        if (!usable) {
            const std::string path = checkout ? hint_word(checkout->path.string()) : "";
            throw Error(fmt::format("model '{}' has no worktree to run an environment for{}", *model,
                                    !checkout          ? ""
                                    : checkout->missing ? fmt::format(" (its folder {} is gone)", printable(checkout->path.string()))
                                                        : fmt::format(" (git has {} locked)", printable(checkout->path.string()))),
                        !checkout ? fmt::format("create one with `git worktree add <path> {}`", hint_word(branch))
                        : checkout->missing
                            ? fmt::format("`git worktree remove {}` forgets the gone one, then `git worktree add <path> {}` "
                                          "makes a new one",
                                          path, hint_word(branch))
                            : fmt::format("`git worktree unlock {}` once whatever locked it is done", path));
        }
        model::require_trusted_checkout(repo, *model, *checkout);
        target.worktree = checkout->path;
        target.linked_worktree = !checkout->main_worktree;
        return target;
    }
    const auto workdir = repo.workdir();
    const auto branch = repo.current_branch();
    const auto name = branch ? naming::model_from_branch(*branch) : std::nullopt;
    if (!workdir || !name) {
        throw Error(fmt::format("this worktree is {}, not a model branch", branch ? "on " + *branch : "not on a branch"),
                    "name the model (`git model env up <model>`) or run this inside a model's worktree");
    }
    target.model = *name;
    target.branch = *branch;
    target.worktree = *workdir;
    target.linked_worktree = repo.is_linked_worktree();
    target.container = container_name(target.common_dir, main, target.model);
    return target;
}

std::vector<fs::path> persist_folders(const Target& target, const config::ModelEnv& file) {
    const auto placeholders = placeholders_for(target.model, target.branch);
    return {resolve_persist(target, file.persist.checkpoints, "checkpoints", placeholders),
            resolve_persist(target, file.persist.logs, "logs", placeholders)};
}

config::ModelEnv load_environment_file(const Target& target) {
    const fs::path file = target.worktree / config::modelenv_file_name;
    if (!fs::exists(file)) {
        throw Error(fmt::format("there is no {} in {}", config::modelenv_file_name, target.worktree.string()),
                    "write one that pins the image (see `man gitmodelenv`), e.g. `image: registry/team/pytorch:2.4.0`");
    }
    return config::load_modelenv_file(file);
}

Engine engine_for(const git::Repository& repo, const Target& target) {
    std::optional<std::string> file_engine;
    try {
        // No worktree (a down by name after it was deleted): the configured engine, as prune's.
        if (!target.worktree.empty()) file_engine = load_environment_file(target).engine;
    } catch (const Error&) {
        // down/logs/exec must work even when the file is broken or gone
    }
    return select_engine(repo.config(), file_engine);
}

namespace {

// Everything the stages of `up` share, resolved once before any GPU is taken.
struct UpPlan {
    const git::Config& config;
    const Target& target;
    const UpOptions& options;
    config::ModelEnv file;
    Engine engine;
    fs::path state;
    fs::path checkpoints;
    fs::path logs;
    std::vector<BindMount> extra_mounts;
    std::vector<std::string> command;
    std::string address;
    bool pass_devices = false;  // the pool came from the driver: devices are passed
    ImageIdentity image;  // what the reference resolves to here (pulled first when it was not)
    config::Placeholders placeholders;
    UserPlan user;
    PortAssignment ports;
    // Files of the state folder the container mounts (SSH keys and configuration): written only
    // once the container they replace is gone, since a running one mounts the same files.
    std::vector<std::pair<fs::path, std::string>> state_files;
    // The container this start replaces (its name; empty when none), whose GPUs pass to it.
    std::string replaces_container;
    // This start's label::start token: on its container, and in its leases until they have its id.
    std::string start_token = random_hex(8);
};

// The one guard of a start: until committed, a failure (or an exception unwinding
// through) removes the container, if this start made one, then gives the GPUs back.
// A container that cannot be removed keeps its leases, so its GPUs are not handed out twice.
class StartGuard {
public:
    StartGuard(const Engine& engine, std::string container, std::string token, Reservation& leases)
        : engine_(engine), container_(std::move(container)), token_(std::move(token)), leases_(leases) {}
    StartGuard(const StartGuard&) = delete;
    StartGuard& operator=(const StartGuard&) = delete;
    ~StartGuard() {
        if (committed_) return;
        if (container_may_exist_) {
            try {
                // Only the container this start made (its token): "name already in use" means
                // the name is another start's, whose container must live on.
                const auto info = find_container(engine_, container_);
                if (info && info->labels.count(label::start) && info->labels.at(label::start) == token_)
                    remove_container(engine_, info->id.empty() ? container_ : info->id, 0s);
            } catch (const std::exception& e) {  // any: nothing may leave a destructor
                leases_.keep();
                fmt::print(stderr, "git-model-env: warning: {}; its GPU lease stays until `git model env down`\n", e.what());
                return;
            }
        }
        try {
            leases_.give_back();
        } catch (const std::exception& e) {
            fmt::print(stderr, "git-model-env: warning: its GPU lease could not be given back: {}\n", e.what());
        }
    }
    // The label value that marks this start's container.
    const std::string& token() const { return token_; }
    // From the moment the engine is asked to create it.
    void container_may_exist() { container_may_exist_ = true; }
    // The environment is up: the container holds its leases from now on.
    void commit() {
        committed_ = true;
        leases_.keep();
    }

private:
    const Engine& engine_;
    std::string container_;
    std::string token_;
    Reservation& leases_;
    bool container_may_exist_ = false;
    bool committed_ = false;
};

// SSH into the container: key-only, as the container's user; root's sshd keeps the image's
// configuration (today's behaviour for `user: image`), the user's gets a full one of ours.
void plan_ssh(UpPlan& plan, const std::string& keys) {
    const int port = *plan.file.find_port("ssh");
    plan.state_files.emplace_back(plan.state / "authorized_keys", keys);
    if (plan.user.login.empty() || plan.user.as_root) {
        plan.state_files.emplace_back(plan.state / "sshd_config",
                                      "# written by git-model: key-only logins\n"
                                      "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                      "PermitEmptyPasswords no\nPubkeyAuthentication yes\n"
                                      "PermitRootLogin prohibit-password\n");
        plan.extra_mounts.push_back({plan.state / "authorized_keys", "/root/.ssh/authorized_keys", true});
        plan.extra_mounts.push_back({plan.state / "sshd_config", "/etc/ssh/sshd_config.d/git-model.conf", true});
        plan.command = default_command(plan.file);
        return;
    }
    const std::string host_key =
        (plan.user.home.empty() ? std::string("/tmp/git-model-sshd") : plan.user.home + "/.ssh") + "/git-model-host-key";
    const std::string run_dir = host_key.substr(0, host_key.rfind('/'));
    std::ostringstream config;
    config << "# written by git-model: key-only logins as " << plan.user.login << ", never as root\n"
           << "Port " << port << "\nHostKey " << host_key << "\nPidFile " << run_dir << "/git-model-sshd.pid\n"
           << "AuthorizedKeysFile /etc/ssh/git-model/authorized_keys\nAllowUsers " << plan.user.login << "\n"
           << "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
              "PermitEmptyPasswords no\nPubkeyAuthentication yes\nUsePAM no\nSubsystem sftp internal-sftp\n";
    plan.state_files.emplace_back(plan.state / "sshd_config", config.str());
    plan.extra_mounts.push_back({plan.state / "authorized_keys", "/etc/ssh/git-model/authorized_keys", true});
    plan.extra_mounts.push_back({plan.state / "sshd_config", "/etc/ssh/git-model/sshd_config", true});
    plan.command = default_command(plan.file, "/etc/ssh/git-model/sshd_config", host_key);
}

// Writes the state files the container mounts through the descriptor of the state folder as
// checked now (the caller's, 0700), each a new file renamed into place: a link planted in the
// folder's place or in it (a teammate of a group-shared repository, a container) is never
// written through, and one left in it is replaced. 0644: the container's own user reads them.
void write_state_files(const UpPlan& plan) {
    UniqueFd opened;
    make_folder_below(plan.target.common_dir, plan.state, 0700, &opened);
    SharedDir folder = SharedDir::adopt(std::move(opened), plan.state);
    for (const auto& [path, content] : plan.state_files) {
        const std::string name = path.filename().string();
        folder.remove_if_owned(name, ::geteuid());  // a link a container left there goes, unfollowed
        folder.write(name, content, 0644, false);
    }
}

// Who the processes run as; the image's account files are read (once per image) when needed.
void plan_container_user(UpPlan& plan, UpResult& result) {
    const Caller caller = current_caller();
    std::optional<ImageAccounts> accounts;
    if (accounts_needed(plan.file.user, plan.engine.mode, plan.engine.kind, caller)) {
        std::string why;
        accounts = image_accounts(plan.engine, plan.image.id, plan.target.common_dir / "git-model" / "env" / ".images", &why);
        if (!accounts)
            result.notes.push_back(fmt::format("{}: the container runs as uid {} without a passwd entry of ours", why,
                                               plan.file.user.mode == config::UserSetting::Mode::ids ? plan.file.user.uid
                                                                                                     : caller.uid));
    }
    plan.user = plan_user(plan.file.user, plan.engine.mode, plan.engine.kind, caller, accounts);
    if (!plan.user.home.empty()) make_folder_below(plan.target.common_dir, plan.state / "home", 0700);  // the caller's own
    switch (plan.file.user.mode) {
        case config::UserSetting::Mode::image: result.user = "the image's own user (user: image)"; break;
        case config::UserSetting::Mode::host:
            result.user = plan.user.as_root && caller.uid != 0
                              ? fmt::format("root inside, which is {} on the host ({})", caller.name, plan.engine.describe_mode())
                              : fmt::format("{} (uid {}, gid {})", plan.user.login, caller.uid, caller.gid);
            break;
        case config::UserSetting::Mode::ids:
            result.user = fmt::format("{} (uid {}, gid {})", plan.user.login, plan.file.user.uid, plan.file.user.gid);
            break;
    }
}

// The folders, mounts and command of the container; nothing is started or taken yet.
UpPlan prepare(const git::Config& config, const Target& target, const UpOptions& options, config::ModelEnv file,
               Engine engine, ImageIdentity image, UpResult& result) {
    UpPlan plan{config, target, options, std::move(file), std::move(engine), state_dir(target), {}, {}, {}, {}, {}, false,
                std::move(image), {}, {}, {}, {}, {}};
    // Folders the container needs; persist folders are never deleted by the suite.
    // Folders below the common dir are walked without following links: a container that
    // once had .git mounted may have left one pointing anywhere on the host.
    make_folder_below(target.common_dir, plan.state, 0700);  // the caller's own, exactly 0700
    plan.placeholders = placeholders_for(target.model, target.branch);
    plan.checkpoints = resolve_persist(target, plan.file.persist.checkpoints, "checkpoints", plan.placeholders);
    plan.logs = resolve_persist(target, plan.file.persist.logs, "logs", plan.placeholders);
    for (const auto& dir : {plan.checkpoints, plan.logs}) {
        if (is_below(dir, target.common_dir)) {
            model::make_own_folder_below(target.common_dir, dir);  // the user's alone, whatever the umask
            continue;
        }
        // A folder the user named outside .git may be a link the user made: followed. One another user controls is refused.
        model::make_persist_folder(dir, target.common_dir);
    }
    for (const auto& mount : plan.file.mounts) {
        const std::string source = config::expand_placeholders(mount.source, plan.placeholders);
        if (!fs::exists(source))
            throw Error(fmt::format("{}: the mount source {} does not exist", config::modelenv_file_name, source),
                        "create it or fix mounts: in .modelenv.yaml");
    }
    plan_container_user(plan, result);
    if (plan.file.command.form == config::Command::Form::exec) plan.command = plan.file.command.argv;
    else if (plan.file.command.form == config::Command::Form::shell) plan.command = in_container_shell(plan.file.command.shell);
    else plan.command = default_command(plan.file);
    if (plan.file.find_port("ssh")) {
        const std::string keys = authorized_keys(config);
        if (keys.empty())
            throw Error("ports.ssh is set, but there is no public key to authorize (SSH is key-only)",
                        "add a key to ~/.ssh/*.pub, or name a file: git config model.sshAuthorizedKeys <file>");
        const auto command = plan.command;
        plan_ssh(plan, keys);
        if (plan.file.command.form != config::Command::Form::none) plan.command = command;
    }
    if (options.check) {
        const fs::path bench = find_bench_binary();
        if (bench.empty()) throw UnavailableError("--check needs git-model-bench, which is not installed");
        plan.extra_mounts.push_back({bench, bench_in_container, true});
    }
    plan.address = options.bind_all_interfaces ? "0.0.0.0" : "127.0.0.1";
    if (options.bind_all_interfaces && !plan.file.ports.empty())
        result.notes.push_back("warning: the ports are published on every network interface (--bind-all); "
                               "anyone who can reach this machine can reach them");
    return plan;
}

// The host ports, once the container this start replaces is gone (its ports are free again).
void plan_ports(UpPlan& plan, UpResult& result) {
    const Target& target = plan.target;
    // Host ports: fixed ones as written, else the model's last ones while free (asking the engine who
    // holds a port only when one is taken).
    std::optional<std::vector<ContainerInfo>> managed;
    const auto holder = [&](int port) {
        if (!managed) {
            try {
                managed = list_containers(plan.engine, std::string(label::managed) + "=1");
            } catch (const Error&) {
                managed.emplace();
            }
        }
        return describe_port_holder(port, *managed);
    };
    plan.ports = assign_ports(plan.file.ports, plan.address, read_port_record(target.common_dir, target.model), port_free,
                              holder);
    for (auto& note : plan.ports.notes) result.notes.push_back(note);
}

// A running (or paused) environment that --recreate replaces goes only when the new one could
// start. Its fixed host ports are checked here, before anything is written: its own count as
// free, and a port held by someone else cannot pass to the new container. Its GPUs need no such
// check: the take (under the book's lock, before the old container goes) lets them pass from the
// old container to the new one, and a refused take leaves the old one running.
void refuse_recreate_that_cannot_start(const UpPlan& plan, const ContainerInfo& old) {
    std::set<int> own_ports;
    const auto labels = old.labels;
    if (const auto it = labels.find(label::ports); it != labels.end())
        for (const auto& endpoint : decode_ports(it->second)) own_ports.insert(endpoint.host_port);
    for (const auto& port : plan.file.ports)
        if (port.host_port && !own_ports.count(*port.host_port) && !port_free(plan.address, *port.host_port))
            throw Error(fmt::format("--recreate: host port {} ({}) that .modelenv.yaml fixes is taken; the environment "
                                    "of '{}' was left as it is",
                                    *port.host_port, port.name, plan.target.model),
                        "free the port, or leave the host port out of ports: in .modelenv.yaml to get a free one");
    // --check runs git-model-bench inside: an image it cannot even start in (no glibc) is found
    // now, by one throwaway run, not after the old container is gone.
    if (!plan.options.check) return;
    const auto bench = std::find_if(plan.extra_mounts.begin(), plan.extra_mounts.end(),
                                    [](const BindMount& mount) { return mount.target == bench_in_container; });
    if (bench == plan.extra_mounts.end()) return;
    proc::RunOptions options;
    options.timeout = plan.engine.timeout;
    options.max_output = 1 << 16;
    const auto probe = proc::run(plan.engine.command(version_probe_arguments(plan.image.id, *bench, plan.target.common_dir.string())), options);
    const std::string why = trim_end(probe.err, "\n");
    // 126/127, or the loader's words; 125 is the engine's own failure (a missing mount source, say).
    const bool cannot_start = !probe.ok() && !probe.timed_out && probe.exit_code != 125 &&
                              (probe.exit_code == 126 || probe.exit_code == 127 ||
                               why.find("no such file or directory") != std::string::npos ||
                               why.find("error while loading shared libraries") != std::string::npos);
    if (cannot_start)  // other failures (the engine's) are left to the start itself to report
        throw Error(fmt::format("--recreate --check: git-model-bench cannot run inside the image {} ({}); the "
                                "environment of '{}' was left as it is",
                                plan.file.image.to_string(), why.substr(0, 400), plan.target.model),
                    "the bench needs a glibc-based image (as PyTorch's and CUDA's images are); leave out --check for "
                    "other images");
}

// Ends a start that a deferred signal interrupted, by an Error that unwinds through its guard.
void stop_if_interrupted() {
    if (const int signal = DeferSignals::pending()) throw Error(fmt::format("interrupted by signal {}", signal));
}

// Stage 1: takes the GPUs from the machine's book (waiting for one with --wait). The book's
// lock is held only while the leases are judged and written, never while the engine runs.
Reservation acquire_gpus(UpPlan& plan, UpResult& result) {
    if (!plan.file.gpus.wants_gpu()) return {};
    TakeRequest request;
    request.pool = discover_pool(plan.config);
    plan.pass_devices = request.pool.from_driver;
    request.request = plan.file.gpus;
    request.holder.holder = proc::self_identity();  // answerable for the lease until the container holds it
    request.holder.engine = plan.engine.name;
    request.holder.engine_host = plan.engine.place();
    request.holder.container = plan.target.container;
    request.holder.repo = plan.target.common_dir.string();
    request.holder.model = plan.target.model;
    request.holder.worktree = plan.target.worktree.string();
    request.holder.start = plan.start_token;
    request.context = local_judge_context(&plan.engine);
    request.lock_timeout = lease_lock_timeout(plan.config);
    request.replaces_container = plan.replaces_container;
    const auto book = LeaseBook::open(LeaseBook::directory(plan.config));
    request.limits = book->limits();  // root's: /etc/gitconfig and the book's own, never the user's files
    if (auto warning = book->other_book_warning()) result.notes.push_back(*warning);
    const auto deadline = plan.options.wait_limit ? std::chrono::steady_clock::now() + *plan.options.wait_limit
                                                  : std::chrono::steady_clock::time_point::max();
    bool told = false;
    while (true) {
        try {
            return take(book, request, result.notes);
        } catch (const GpusBusyError& e) {
            if (!plan.options.wait_for_gpu) throw;
            if (std::chrono::steady_clock::now() >= deadline)
                throw GpusBusyError(e.reason(), fmt::format("gave up waiting: {}", e.what()), e.hint());
            if (!told) {
                fmt::print(stderr, "git-model-env: waiting for a free GPU ({})\n", e.what());
                told = true;
            }
            request.context = local_judge_context(&plan.engine);  // the engine is asked afresh next time
            // Ctrl-C (deferred from here on) ends the wait at once, not once a GPU frees.
            for (int tick = 0; tick < 20; ++tick) {
                stop_if_interrupted();
                std::this_thread::sleep_for(100ms);
            }
        }
    }
}

// Once the container a start replaces is gone: its leases go too, but not the new ones the take
// wrote for the same container name (those hold the GPUs that passed to the new container).
void give_back_replaced(const UpPlan& plan, const Reservation& leases) {
    const auto book = LeaseBook::open_existing(LeaseBook::directory(plan.config));
    if (!book) return;
    give_back_matching(*book,
                       [&](const Lease& lease) {
                           return lease.container == plan.target.container &&
                                  std::none_of(leases.leases().begin(), leases.leases().end(),
                                               [&](const Lease& taken) { return taken.id == lease.id; });
                       },
                       lease_lock_timeout(plan.config));
}

// A killed `env up` leaves its engine client to finish the container (see start_container):
// while that client still works on the name, a new start would race it (and fail, or remove
// what it makes), so it is refused, naming the client. Only this user's processes are looked at.
void refuse_while_left_client_works(const Engine& engine, const std::string& name) {
    // As start_container runs it: a sweep run's client (--rm, in the foreground) is not one.
    if (const auto client = proc::find_own_process(detached_run_arguments(name)))
        throw Error(fmt::format("the container {} is still being made by {} (process {}), which an earlier `env up` "
                                "of this model started and left when it was killed",
                                name, engine.name, *client),
                    "wait for it to finish, then `git model env status` shows the environment (`git model env down` "
                    "removes it)");
}

// After `podman run` failed because the name is taken: when only podman's storage knows a
// container of that name (a client killed while it created it; `podman ps -a` does not show
// it), removes that leftover and says so. The name is this model's worktree's own, and `env up`
// and `env down` of the model take turns, so no other start can be creating it now.
bool remove_storage_leftover(const Engine& engine, const std::string& name, const std::string& engine_error) {
    if (engine.kind != EngineKind::podman || engine_error.find("already in use") == std::string::npos) return false;
    refuse_while_left_client_works(engine, name);  // not a leftover while a killed start's podman works on it
    if (find_container(engine, name)) return false;  // a real container: another start's, or one to show
    proc::RunOptions options;
    options.timeout = engine.timeout;
    return proc::run(engine.command({"rm", "--storage", name}), options).ok();
}

// Stage 2: the engine's `run -d` (with its time limit), then the leases are confirmed with
// the container's id and host process.
LaunchSpec start_container(UpPlan& plan, Reservation& leases, StartGuard& guard, UpResult& result) {
    const Target& target = plan.target;
    ContainerRequest request;
    request.engine = plan.engine.kind;
    request.name = target.container;
    request.hostname = target.model;
    request.worktree = target.worktree;
    request.common_dir = target.common_dir;
    request.mount_common_dir = target.linked_worktree;
    request.model = target.model;
    request.branch = target.branch;
    request.checkpoints = plan.checkpoints;
    request.logs = plan.logs;
    request.gpus = leases.gpus();
    request.pass_gpu_devices = plan.pass_devices;
    request.extra_mounts = plan.extra_mounts;
    request.command = plan.command;
    request.env_file = plan.state / "env";
    // A remote engine writes no pidfile here: the lease is then judged by the container.
    if (plan.engine.kind == EngineKind::podman && plan.engine.host.empty()) request.pidfile = plan.state / "pid";
    request.user = plan.user;
    request.accounts_dir = plan.state;
    request.home = plan.state / "home";
    request.placeholders = plan.placeholders;
    request.ports = plan.ports.ports;
    request.variables = {{"GIT_MODEL_MODEL", target.model},
                         {"GIT_MODEL_CHECKPOINTS", "/persist/checkpoints"},
                         {"GIT_MODEL_LOGS", "/persist/logs"}};
    if (plan.file.find_port("jupyter")) {
        const std::string token = random_hex(24);
        result.token_file = plan.state / "jupyter-token";
        write_private_file(result.token_file, token + "\n");
        request.variables.emplace_back("JUPYTER_TOKEN", token);
        for (const auto& port : request.ports)
            if (port.name == "jupyter")
                result.jupyter_url_with_token = endpoint_url("jupyter", port.host_address, port.host_port) + "?token=" + token;
    }
    request.extra_labels = {{label::ports, encode_ports(request.ports)},
                            {label::image, plan.file.image.to_string()},
                            {label::settings, settings_fingerprint(config::container_settings(plan.file))},
                            {label::start, guard.token()}};
    result.gpus = request.gpus;
    result.gpu_devices_passed = plan.pass_devices && !request.gpus.empty();

    ContainerPlan container = plan_container(plan.file, request);
    // Run what was inspected, by id: the recorded image is the one that runs.
    container.spec.image = plan.image.id;
    write_private_file(request.env_file, container.env_file_content);
    // passwd and group hold no secret, and a user: uid:gid other than the caller's must read them.
    for (const auto& [path, content] : container.account_files) write_private_file(path, content, 0644);
    create_home_mount_points(container);
    std::error_code ec;
    if (!request.pidfile.empty()) fs::remove(request.pidfile, ec);
    stop_if_interrupted();  // a Ctrl-C while the GPUs were waited for: no container is made
    leases.check_held();  // `env down` or root may have given it back while this start waited
    guard.container_may_exist();
    proc::RunOptions run_options;
    run_options.timeout = plan.engine.start_timeout;
    // The engine's client is never cut half way: podman killed while it creates the container
    // leaves one that only its storage knows (every later start fails: "name already in use")
    // or a network it never tears down (a DNAT rule sending the model's port to a dead
    // address). It runs in a process group of its own, so Ctrl-C does not reach it (ours is
    // deferred, see up()), and should this process be killed (kill -9) it still finishes: the
    // container then holds its GPU leases like any other and `env down` removes it. While it
    // runs, the leases name it, so that nobody judges them gone before the container appears.
    // A failure to record it (the book's lock not had in time, the lease given back meanwhile) lets
    // the client finish too; it ends the start after, and the guard removes what it made.
    std::exception_ptr not_recorded;
    run_options.on_start = [&](long pid) {
        try {
            leases.record_starter(proc::identity_of(pid).value_or(proc::ProcessIdentity{pid, 0}));
        } catch (...) {
            not_recorded = std::current_exception();
        }
    };
    auto run = proc::run(engine_run_argv(plan.engine, container.spec), run_options);
    if (!run.ok() && !run.timed_out && remove_storage_leftover(plan.engine, plan.target.container, run.err)) {
        result.notes.push_back(fmt::format("removed what a killed start left of {} in {}'s storage", plan.target.container,
                                           plan.engine.name));
        not_recorded = nullptr;
        run = proc::run(engine_run_argv(plan.engine, container.spec), run_options);
    }
    if (!run.ok()) {
        if (run.timed_out)
            throw Error(fmt::format("{} did not start the environment within {} s (model.env.startTimeout); it was stopped "
                                    "and nothing was left running", plan.engine.name, plan.engine.start_timeout.count() / 1000),
                        fmt::format("the image is here, so the engine itself was slow or stuck: see `{} ps -a`, or "
                                    "raise git config model.env.startTimeout", plan.engine.name));
        throw Error(fmt::format("{} could not start the environment ({}):\n{}", plan.engine.name, run.describe(),
                                engine_message(run.err)),
                    "nothing was left running; check the image name and the engine's message above");
    }
    if (not_recorded) {
        // The container is there without its client in the lease: the start ends, and the guard
        // removes the container it made.
        try {
            std::rethrow_exception(not_recorded);
        } catch (const Error& e) {
            throw Error(fmt::format("{} (the container {} was made, and is removed again)", e.what(),
                                    plan.target.container),
                        e.hint(), e.code());
        }
    }
    std::string id = run.out.substr(0, run.out.find('\n'));
    result.image_id = plan.image.id;
    std::optional<proc::ProcessIdentity> workload;
    if (!request.pidfile.empty()) {
        long pid = 0;
        std::ifstream(request.pidfile) >> pid;
        workload = proc::identity_of(pid);
    }
    leases.confirm(id, workload.value_or(proc::ProcessIdentity{}), true);
    return container.spec;
}

// A container in the host's network (containers.conf netns = "host", how rootless podman is set
// up where it has no user network; or "ns:<path>", "container:<id>") gets no --publish: the engine
// drops it, and each service listens on its container port wherever that network reaches, on
// every interface, not on the 127.0.0.1 host port env up would name. Told by the ports the
// container got (none), whatever the mode is called. Refused (the guard removes the container,
// before a service is likely up), unless --bind-all asked for every interface and each host port
// is its container port ("2222:2222"), which is then the truth.
bool refuse_unpublished_ports(const UpPlan& plan, const LaunchSpec& spec) {
    if (spec.ports.empty()) return false;
    const auto inspected = proc::run(plan.engine.command(
        {"container", "inspect", "--format", "{{len .HostConfig.PortBindings}} {{.HostConfig.NetworkMode}}",
         plan.target.container}));
    const std::string answer = trim_end(inspected.out, "\n");
    if (!inspected.ok() || answer.rfind("0 ", 0) != 0) return false;
    const std::string mode = answer.substr(2);
    const bool same_ports = std::all_of(spec.ports.begin(), spec.ports.end(),
                                        [](const auto& port) { return port.host_port == port.container_port; });
    if (plan.options.bind_all_interfaces && same_ports) return true;
    throw Error(fmt::format("{} published none of the ports: it runs the container in network mode {} (its "
                            "containers.conf's netns), where ports are not published; each service would listen on its "
                            "container port on every network interface that network has, not on the 127.0.0.1 port env "
                            "up names; the environment was removed",
                            plan.engine.name, quote_for_message(mode)),
                "give the engine a network of its own (netns = \"slirp4netns\" or \"pasta\" for rootless podman, "
                "\"bridge\" for rootful), or accept every interface: fix each host port to its container port in "
                ".modelenv.yaml (ports: ssh: \"2222:2222\") and run `git model env up --bind-all` (anyone who reaches "
                "this machine reaches them; Jupyter keeps its token, SSH its keys)");
}

// Stage 3: waits until every published port accepts connections, or the container gives up.
void wait_until_ready(const UpPlan& plan, const LaunchSpec& spec) {
    if (spec.ports.empty()) return;
    // Before the probes: they would wait for ports nobody publishes.
    const bool host_network = refuse_unpublished_ports(plan, spec);
    const auto fail = [&](const std::string& what) {
        const std::string logs_tail = last_log_lines(plan.engine, plan.target.container, 20);
        throw Error(fmt::format("{}; the environment was removed. Its last output:\n{}", what,
                                logs_tail.empty() ? "  (none)" : logs_tail),
                    "fix the cause (image, command, ports in .modelenv.yaml) and run `git model env up` again");
    };
    // In the host's network another user's program (or their own rootless container) may take
    // the port before the container listens: it would answer the probe, and the URL printed
    // (Jupyter's token in it) would reach them. The container's processes are the caller, root
    // (a rootful engine's image user), the uid `user:` names, or the caller's subordinate uids.
    std::optional<std::vector<IdRange>> subordinate;
    const auto refuse_foreign_listener = [&](int port) {
        if (!host_network) return;
        for (const unsigned uid : listener_uids(port)) {
            if (uid == ::geteuid() || uid == 0) continue;
            if (plan.file.user.mode == config::UserSetting::Mode::ids && uid == plan.file.user.uid) continue;
            if (!subordinate) subordinate = own_subordinate_uids();
            if (in_ranges(*subordinate, uid)) continue;
            fail(fmt::format("port {} answers, but from {}, not from the container: in the host's network "
                             "another program may listen on a port first",
                             port, describe_port_holder(port, {})));
        }
    };
    const auto ready_limit = duration_key(plan.config, "model.env.readyTimeout", 120s);
    const auto until = std::chrono::steady_clock::now() + ready_limit;
    std::set<int> waiting;
    for (const auto& port : spec.ports) waiting.insert(port.host_port);
    auto next_state_check = std::chrono::steady_clock::now() + 1s;
    while (!waiting.empty()) {
        stop_if_interrupted();
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (!port_accepts(*it)) {
                ++it;
                continue;
            }
            refuse_foreign_listener(*it);
            it = waiting.erase(it);
        }
        if (waiting.empty()) break;
        if (std::chrono::steady_clock::now() >= until)
            fail(fmt::format("the ports did not accept connections within {} s", ready_limit.count()));
        if (std::chrono::steady_clock::now() >= next_state_check) {
            auto info = find_container(plan.engine, plan.target.container);
            if (!info || info->state != "running")
                fail(fmt::format("the container stopped ({}) before its ports were ready", info ? info->state : "gone"));
            next_state_check = std::chrono::steady_clock::now() + 1s;
        }
        std::this_thread::sleep_for(50ms);
    }
}

// The UUIDs of the GPUs an environment was given.
std::set<std::string> given_uuids(const UpResult& result) {
    std::set<std::string> uuids;
    for (const auto& gpu : result.gpus)
        if (gpu.uuid) uuids.insert(*gpu.uuid);
    return uuids;
}

// --check: a bench inside that saw a GPU the environment was not given (an image or engine hook
// exposing every GPU) means the container can use a GPU the lease book gave someone else.
void refuse_ungiven_gpus(const nlohmann::json& report, const UpResult& result) {
    if (!result.gpu_devices_passed) return;  // a configured pool: no UUIDs to compare with
    const auto given = given_uuids(result);
    const auto extra = ungiven_gpus(report, given);
    if (extra.empty()) return;
    std::vector<std::string> leased(given.begin(), given.end());
    throw Error(fmt::format("--check: git-model-bench inside the container saw {} this environment was not given "
                            "({}; given: {}); the environment was removed",
                            count_of(extra.size(), "GPU"), join(extra, ", "), leased.empty() ? "none" : join(leased, ", ")),
                "the container must see only its leased GPUs: look for NVIDIA_VISIBLE_DEVICES=all in the image, or "
                "an engine hook or CDI spec that adds every GPU");
}

// Stage 4 (--check): git-model-bench inside the container, then PyTorch where the image has it.
void run_checks(const UpPlan& plan, UpResult& result) {
    const std::string& container = plan.target.container;
    proc::RunOptions run_options;
    run_options.timeout = duration_key(plan.config, "model.bench.timeout", 20s) + 10s;
    const auto bench = proc::run(plan.engine.command({"exec", container, bench_in_container, "--quick", "--json", "--no-results-cache"}), run_options);
    const auto report = nlohmann::json::parse(bench.out, nullptr, false);
    if (!bench.ok()) {
        std::string why = !report.is_discarded() && report.contains("error") && report["error"].is_object()
                              ? report["error"].value("message", "")
                              : bench.err;
        why = trim_end(why, "\n");
        // The engine says 126/127 (or names the loader) when the binary cannot even start in the image.
        const bool cannot_start = report.is_discarded() &&
                                  (bench.exit_code == 126 || bench.exit_code == 127 ||
                                   why.find("no such file or directory") != std::string::npos ||
                                   why.find("error while loading shared libraries") != std::string::npos);
        const int code = bench.timed_out ? 1 : bench.exit_code;
        if (cannot_start) {
            throw Error(fmt::format("--check: git-model-bench cannot run inside the image {} ({}); the environment "
                                    "was removed", result.image, why),
                        "the bench needs a glibc-based image (as PyTorch's and CUDA's images are); "
                        "leave out --check for other images");
        }
        const std::string message = fmt::format(
            "--check: git-model-bench inside the container {}: {}; the environment was removed",
            bench.timed_out ? "did not finish in time" : code == 3 ? "found no usable GPU" : "failed", why);
        if (code == 3) throw UnavailableError(message, "the chain container -> driver -> GPU is broken; see git model bench");
        throw Error(message);
    }
    std::vector<std::string> names;
    if (!report.is_discarded() && report.contains("devices"))
        for (const auto& device : report["devices"]) names.push_back(device.value("name", "?"));
    refuse_ungiven_gpus(report, result);
    // The bench ran inside with --no-results-cache; its results are kept here, on the host, for
    // the GPUs this environment was given (the image decides what runs inside and what it says).
    if (auto note = keep_bench_report(report, LeaseBook::directory(plan.config), given_uuids(result)))
        result.notes.push_back(*note);
    result.check_lines.push_back(fmt::format("git-model-bench --quick inside the container: pass ({})", join(names, ", ")));
    // Where the image has PyTorch, it must see the same GPUs (a driver/CUDA mismatch shows only there).
    const auto torch = proc::run(plan.engine.command({"exec", container, "python3", "-c",
                                                      "import json,torch;n=torch.cuda.device_count();"
                                                      "print(json.dumps([torch.cuda.get_device_name(i) for i in range(n)]))"}),
                                 run_options);
    if (!torch.ok()) {
        result.check_lines.push_back("no PyTorch in the image: the torch check was skipped");
        return;
    }
    const auto torch_names = nlohmann::json::parse(torch.out, nullptr, false);
    if (!torch_names.is_array() || torch_names.size() != names.size())
        throw Error(fmt::format("--check: PyTorch in the image sees {} while the bench saw {}: a driver/CUDA "
                                "mismatch? The environment was removed.", torch.out.empty() ? "nothing" : torch.out,
                                count_of(names.size(), "GPU")));
    result.check_lines.push_back(fmt::format("PyTorch sees the same {}", count_of(names.size(), "GPU")));
}

// The model's turn at starting or stopping its environment: a lock of the repository
// (<common dir>/git-model/locks/env-<model>.lock), waited for at most model.lockTimeout.
std::unique_ptr<model::RepositoryLock> take_model_turn(const git::Repository& repo, const Target& target, const char* doing) {
    const std::string name = "env-" + target.model;
    const std::string what = fmt::format("{} {}", doing, target.model);
    try {
        return std::make_unique<model::RepositoryLock>(repo.common_dir(), name, what, std::chrono::milliseconds(0));
    } catch (const Error&) {
        fmt::print(stderr, "git-model-env: waiting for another start or stop of the environment of '{}' to finish\n",
                   target.model);
    }
    return std::make_unique<model::RepositoryLock>(repo, name, what);
}

}  // namespace

namespace {

// The image's tag now names another image than the branch's snapshots ran: a warning, or
// a refusal under model.imageDrift = refuse.
void check_image_drift(const git::Config& config, const UpOptions& options, const config::ModelEnv& file,
                       const std::string& image_id, UpResult& result) {
    if (file.image.pinned_by_digest() || image_id.empty() || !options.image_ran_by_snapshots) return;
    const std::string policy = config.get_string("model.imageDrift").value_or("warn");
    if (policy != "warn" && policy != "refuse")
        throw Error(fmt::format("model.imageDrift is '{}': expected warn or refuse", policy),
                    "set refuse or warn (the default) " + git::team_setting_fix("model.imageDrift", "refuse", false));
    const auto ran = options.image_ran_by_snapshots(file.image.to_string());
    if (!ran || ran->image_id == image_id) return;
    const std::string what = fmt::format("image drift: {} now resolves to {}, but snapshot {} ran {}", file.image.to_string(),
                                         short_image_id(image_id), ran->tag, short_image_id(ran->image_id));
    if (policy == "refuse")
        throw Error(what + " (model.imageDrift = refuse); nothing was started",
                    fmt::format("bring that image back under its tag (e.g. `podman tag {} {}` while it is still here), or "
                                "pin the one you mean by digest (`git model env pin`) and commit it",
                                ran->image_id, file.image.to_string()));
    result.notes.push_back("warning: " + what + "; `git model env pin` pins the image by digest");
}

// Writes what ran (for drift, `git model tag`) and the ports it got (for the next up).
void record_launch(const UpPlan& plan, const UpResult& result) {
    LaunchRecord record;
    record.image = plan.file.image.to_string();
    record.image_id = result.image_id;
    record.settings = config::container_settings(plan.file);
    record.user = config::describe_user(plan.file.user);
    record.engine_mode = plan.engine.describe_mode();
    for (const auto& gpu : result.gpus)
        if (gpu.uuid) record.gpus.push_back(*gpu.uuid);
    record.at = now_seconds();
    record.container = plan.target.container;
    record.start = plan.start_token;
    record.place_id = place_id(plan.target.common_dir);
    try {
        write_launch(plan.target.common_dir, plan.target.model, record);
        if (!plan.ports.record.empty()) write_port_record(plan.target.common_dir, plan.target.model, plan.ports.record);
    } catch (const Error& e) {
        fmt::print(stderr, "git-model-env: warning: {}\n", e.what());
    }
}

// The running container as it is: its endpoints, and how the file now differs from it.
void describe_running(const Engine& engine, const Target& target, const ContainerInfo& existing,
                      const config::ModelEnv& file, UpResult& result) {
    result.already_running = true;
    auto labels = existing.labels;
    result.image = labels.count(label::image) ? labels[label::image] : existing.image;
    result.image_id = normalise_image_id(existing.image_id);
    result.endpoints = decode_ports(labels[label::ports], labels.count(label::login) ? labels[label::login] : "root");
    if (existing.state == "paused")
        result.notes.push_back(fmt::format("the container is paused (it keeps its GPUs); `{} unpause {}` resumes it",
                                           engine.name, target.container));
    const nlohmann::json now = config::container_settings(file);
    if (!labels.count(label::settings)) return;  // started before drift was recorded
    if (labels[label::settings] == settings_fingerprint(now)) return;
    const auto launched = read_launch(target.common_dir, target.model);
    if (launched && settings_fingerprint(launched->settings) == labels[label::settings])
        result.drift = settings_drift(launched->settings, now);
    if (result.drift.empty()) result.drift.push_back("settings");
}

// A start killed once its container ran (kill -9 while the ports were awaited) never recorded
// its launch: the record is the launch before, and `git model tag` would name the image that ran
// then. The running container's own labels say what runs now; its record is written from them
// when the record is not this container's (another start token).
void refresh_launch_record(const Engine& engine, const Target& target, const ContainerInfo& existing,
                           const config::ModelEnv& file) {
    const auto label_of = [&](const char* key) {
        const auto found = existing.labels.find(key);
        return found == existing.labels.end() ? std::string() : found->second;
    };
    const std::string start = label_of(label::start);
    if (start.empty()) return;  // made before starts were labelled: nothing to tell it by
    const auto launched = read_launch(target.common_dir, target.model);
    if (launched && launched->start == start) return;
    LaunchRecord record;
    record.image = label_of(label::image).empty() ? existing.image : label_of(label::image);
    record.image_id = normalise_image_id(existing.image_id);
    const nlohmann::json settings = config::container_settings(file);
    if (label_of(label::settings) == settings_fingerprint(settings)) {  // else unknown: drift then says "settings"
        record.settings = settings;
        record.user = config::describe_user(file.user);
    }
    record.engine_mode = engine.describe_mode();
    for (const auto& gpu : split_fields(label_of(label::gpus), ','))
        if (starts_with(gpu, "GPU-")) record.gpus.push_back(gpu);
    record.at = now_seconds();
    record.container = target.container;
    record.start = start;
    record.place_id = place_id(target.common_dir);
    try {
        write_launch(target.common_dir, target.model, record);
    } catch (const Error& e) {
        fmt::print(stderr, "git-model-env: warning: {}\n", e.what());
    }
}

// An environment started before the repository moved here still runs under the old place's
// name: a second one for the same worktree and persist folders is not started beside it.
void refuse_moved_environment(const Engine& engine, const Target& target) {
    const auto moved = moved_environment(engine, target);
    if (!moved) return;
    const auto& labels = moved->container.labels;
    const auto gpus = labels.find(label::gpus);
    throw Error(fmt::format("the environment of '{}' started before this repository moved here from {} is still {} "
                            "(container {}{}); a second one is not started beside it",
                            target.model, printable(moved->old_place.string()), moved->container.state,
                            moved->container.name,
                            gpus == labels.end() || gpus->second.empty() ? "" : ", GPUs " + printable(gpus->second)),
                "`git model env down` removes it (its persist folders moved with the repository), then "
                "`git model env up` starts it here");
}

}  // namespace

UpResult up(git::Repository& repo, const Target& target, const UpOptions& options) {
    // One start or stop of a model's environment at a time (two `env up`, or a `down` during an `up`).
    const auto turn = take_model_turn(repo, target, "git model env up");
    const git::Config config = repo.config();
    config::ModelEnv file = load_environment_file(target);
    Engine engine = select_engine(config, file.engine);
    UpResult result;
    result.target = target;
    result.image = file.image.to_string();
    result.engine_mode = engine.describe_mode();

    refuse_while_left_client_works(engine, target.container);
    // Two questions to the engine at once: is the container there, which image does the pin name.
    auto [existing, image] = find_container_and_image(engine, target.container, file.image.to_string());
    const bool running = existing && (existing->state == "running" || existing->state == "paused");
    if (existing && existing->state == "created" && existing->labels.count(label::sweep)) {
        // A sweep's scheduler made it to start once a GPU frees; removed here, the run would start
        // this environment in its place (and record it as the run).
        const std::string& run = existing->labels.at(label::sweep);
        throw Error(fmt::format("the container {} is the sweep run {}'s, made to start when its GPUs free, not an "
                                "environment of this worktree",
                                target.container, printable(run)),
                    fmt::format("wait for the run (`git model sweep status {}`), or cancel its sweep",
                                printable(run.substr(0, run.find('/')))));
    }
    if (existing) require_own_container(*existing, target, engine);
    if (!existing) refuse_moved_environment(engine, target);
    if (running && !options.recreate) {
        describe_running(engine, target, *existing, file, result);
        refresh_launch_record(engine, target, *existing, file);
        return result;
    }
    // An image that is not here is pulled now, before any GPU is taken, and Ctrl-C stops it at
    // once: a `run` that pulls holds the GPUs for minutes and must not be cut half way. And
    // before the container it replaces goes: a pull that fails, or an image that drifted under
    // model.imageDrift = refuse, leaves a --recreate's running environment as it was.
    if (!image) image = pull_image(engine, file.image.to_string(), options.show_pull);
    check_image_drift(config, options, file, image->id, result);
    // The folders, mounts, keys and user are checked before it goes too; the ports after.
    UpPlan plan = prepare(config, target, options, std::move(file), std::move(engine), *image, result);
    if (running) refuse_recreate_that_cannot_start(plan, *existing);
    // From the GPUs' reservation to the commit, Ctrl-C, SIGTERM and a hang-up are remembered,
    // not obeyed at once: the start ends at the next step (the engine's client done, a poll of
    // the ports), the guard removes the container and gives the GPUs back, and then the signal
    // ends this process as it would have. Obeyed at once, it left a container half made.
    DeferSignals defer;
    DeferSignals::clear();
    bool removal_tried = false;
    try {
        // A container this start replaces (stopped, or running with --recreate) still holds its
        // GPUs while the new ones are taken: they pass to the new container in the take's
        // locked step, and a refused take (or --wait) leaves the old one as it is.
        if (existing) plan.replaces_container = target.container;
        Reservation leases = acquire_gpus(plan, result);
        if (existing) {
            removal_tried = true;
            remove_container(plan.engine, target.container, running ? stop_grace(config) : 0s);
            result.replaced = running;
            result.notes.push_back(running ? fmt::format("--recreate: removed the running container {} (persist "
                                                         "folders kept)", target.container)
                                           : fmt::format("removed the stopped container {} left from before",
                                                         target.container));
            give_back_replaced(plan, leases);
            stop_if_interrupted();
        }
        write_state_files(plan);
        plan_ports(plan, result);
        StartGuard guard(plan.engine, target.container, plan.start_token, leases);
        const LaunchSpec spec = start_container(plan, leases, guard, result);
        stop_if_interrupted();
        for (const auto& port : spec.ports)
            result.endpoints.push_back({port.name, port.container_port, port.host_address, port.host_port,
                                        endpoint_url(port.name, port.host_address, port.host_port, plan.user.login)});
        wait_until_ready(plan, spec);
        if (options.check) run_checks(plan, result);
        stop_if_interrupted();
        guard.commit();
    } catch (const Error& e) {
        std::string old_one;
        if (result.replaced) {
            old_one = fmt::format("--recreate had already removed the running container {}", target.container);
        } else if (running && removal_tried) {
            // Its stop may have worked and its removal not: say what it is now, not what it was.
            std::string state = "in a state the engine did not tell";
            try {
                if (const auto info = find_container(plan.engine, target.container))
                    state = info->state.empty() ? state : info->state;
                else
                    state = "gone";
            } catch (const Error&) {
            }
            old_one = fmt::format("--recreate could not remove the running container {}, which is {} now", target.container,
                                  state);
        } else if (running) {
            old_one = fmt::format("--recreate left the running environment of '{}' as it was", target.model);
        }
        if (DeferSignals::pending()) {
            fmt::print(stderr, "git-model-env: interrupted (signal {}): the start was undone, {}{}\n", DeferSignals::pending(),
                       result.replaced || !running ? "no container or GPU is kept" : "no new container or GPU is kept",
                       old_one.empty() ? std::string() : fmt::format(" ({})", old_one));
            DeferSignals::raise_pending();
        }
        // A failure after the removal (the image's start, its checks): the user must learn that
        // the environment they had is gone; one before it, that it still runs.
        if (result.replaced)
            throw Error(fmt::format("{}\n{} (its persist folders are kept); `git model env up` starts a new one once "
                                    "this is fixed",
                                    e.what(), old_one),
                        e.hint(), e.code());
        if (running) throw Error(fmt::format("{}\n{}", e.what(), old_one), e.hint(), e.code());
        throw;
    }
    record_launch(plan, result);
    return result;
}

namespace {

// The leases of this repository's environments that other users hold: their containers run in
// their own engines, which ours does not see. Only those a process of their user provably holds
// (judge: held), so that a hand-written lease naming nothing alive says nothing.
std::vector<Lease> others_environment_leases(const git::Config& config, const std::string& repo_dir) {
    std::vector<Lease> found;
    try {
        if (auto book = LeaseBook::open_existing(LeaseBook::directory(config))) {
            const JudgeContext context = local_judge_context(nullptr);
            for (const auto& entry : book->read().leases)
                if (entry.lease.uid != ::geteuid() && entry.lease.repo == repo_dir && !entry.lease.container.empty() &&
                    judge(entry.lease, context).verdict == Verdict::held)
                    found.push_back(entry.lease);
        }
    } catch (const Error&) {
        // no book to read: nothing to say
    }
    return found;
}

// What keeps `down` from calling an environment of the model "not running": another user runs
// one (its lease is in the book, its container in their engine, which ours does not see); only
// they, or root, take it down. Empty when none.
std::string others_environment(const git::Config& config, const Target& target) {
    for (const auto& lease : others_environment_leases(config, target.common_dir.string()))
        if (lease.container == target.container)
            return fmt::format("the environment of '{}' is {}'s: it runs in their container engine (it holds GPU {} "
                               "in the lease book), which yours does not see; only they (git model env down there) "
                               "or root can take it down",
                               target.model, lease.user, lease.index);
    return {};
}

}  // namespace

DownResult down(const git::Repository& repo, const Target& here) {
    // An `env up` of this model in progress finishes first (its container is then taken down).
    const auto turn = take_model_turn(repo, here, "git model env down");
    const Engine engine = engine_for(repo, here);
    const git::Config config = repo.config();
    DownResult result;
    Target target = here;
    auto existing = find_container(engine, target.container);
    if (existing) {
        require_own_container(*existing, target, engine);
    } else if (auto moved = moved_environment(engine, here)) {
        // Started before the repository moved here: its container (and leases) have the old place's name.
        target.container = moved->container.name;
        result.moved_from = moved->old_place;
        existing = std::move(moved->container);
    }
    if (!existing) result.others = others_environment(config, target);
    // A container that cannot be removed keeps its GPUs (remove_container throws first).
    if (existing) remove_container(engine, target.container, stop_grace(config));
    if (auto book = LeaseBook::open_existing(LeaseBook::directory(config))) {
        // Only leases this engine answers for: a container of that name started through another
        // engine may run there still. An older git-model's lease did not say which engine: it goes
        // only with the container this engine found and removed.
        const std::string place = engine.place();
        const auto ours = [&](const Lease& lease) {
            return lease.container == target.container &&
                   (lease.engine_host == unknown_engine_host ? existing.has_value()
                                                             : lease.engine == engine.name && lease.engine_host == place);
        };
        const auto given = give_back_matching(*book, ours, lease_lock_timeout(config));
        if (!given.kept.empty()) {
            std::vector<std::string> lines;
            for (const auto& [lease, why] : given.kept) lines.push_back(fmt::format("GPU {}: {}", lease.index, why));
            throw Error(fmt::format("the environment of '{}' is {}, but {} still leased, since its processes run:\n  {}",
                                    target.model, existing ? "removed" : "not running",
                                    given.kept.size() == 1 ? "a GPU stays" : "GPUs stay", join(lines, "\n  ")),
                        "run `git model env down` again once they have ended; `git model gpus` shows the lease");
        }
        if (!existing)
            for (const auto& entry : book->read().leases) {
                const Lease& lease = entry.lease;
                if (lease.uid != ::geteuid() || lease.container != target.container || ours(lease)) continue;
                if (lease.engine_host == unknown_engine_host)
                    throw Error(fmt::format("the environment of '{}' is not in this engine ({}), and its GPU {} lease was "
                                            "written by an older git-model, which did not record the engine it was "
                                            "started through: it stays leased",
                                            target.model, place.empty() ? "your own " + engine.name : printable(place, 200),
                                            lease.index),
                                "run `git model env down` with the engine it was started through (git config "
                                "model.engineHost); if its container is gone everywhere: git model gpus release " +
                                    lease.gpu);
                const std::string there = lease.engine_host.empty() ? "your own " + lease.engine : lease.engine_host;
                throw Error(fmt::format("the environment of '{}' was started through another engine ({}; this is {}), "
                                        "which alone can tell whether its container still runs: GPU {} stays leased to it",
                                        target.model, printable(there, 200),
                                        place.empty() ? "your own " + engine.name : printable(place, 200), lease.index),
                            lease.engine_host.empty()
                                ? std::string("run `git model env down` with your own engine (without model.engineHost or "
                                              "CONTAINER_HOST)")
                                : fmt::format("run `git model env down` with that engine: git config model.engineHost {}",
                                              hint_word(lease.engine_host)));
            }
    }
    result.removed = existing.has_value();
    result.container = target.container;
    return result;
}

std::vector<EnvStatus> status(git::Repository& repo, bool all_repositories, std::vector<std::string>* notes) {
    const git::Config config = repo.config();
    const Engine engine = select_engine(config, std::nullopt);
    // One engine call: every managed container (the GPU leases need them all), filtered here.
    const std::string repo_dir = repo.common_dir().string();
    std::vector<EnvStatus> out;
    const auto containers = list_containers(engine, std::string(label::managed) + "=1");
    for (const auto& info : containers) {
        auto labels = info.labels;
        const auto moved_from = launched_here_before_move(repo.common_dir(), info);
        if (!all_repositories && labels[label::repo] != repo_dir && !moved_from) continue;
        EnvStatus s;
        if (moved_from) s.moved_from = moved_from->string();
        s.model = labels[label::model];
        s.container = info.name;
        s.state = info.state;
        s.image = labels.count(label::image) ? labels[label::image] : info.image;
        s.image_id = normalise_image_id(info.image_id);
        s.repo = labels[label::repo];
        s.worktree = labels[label::worktree];
        s.gpus = labels[label::gpus];
        s.endpoints = decode_ports(labels[label::ports], labels.count(label::login) ? labels[label::login] : "root");
        s.started_at = info.started_at;
        if (s.repo == repo_dir) s.drift = container_drift(repo, info);
        out.push_back(std::move(s));
    }
    if (notes)
        for (const auto& lease : others_environment_leases(config, repo_dir))
            notes->push_back(fmt::format("model '{}' has an environment of {}'s (GPU {} leased to it): it runs in "
                                         "their container engine, so it is not listed here",
                                         lease.model, lease.user, lease.index));
    // A container removed behind the suite's back gives its GPUs back (stopped or paused ones keep them).
    try {
        if (auto book = LeaseBook::open_existing(LeaseBook::directory(config))) {
            for (const auto& freed : heal(*book, local_judge_context(&engine, containers), lease_lock_timeout(config)))
                if (notes)
                    notes->push_back(fmt::format("GPU {} was still leased to {}, whose {} is gone: released", freed.index,
                                                 holder_words(freed), freed.container.empty() ? "process" : "container"));
        }
    } catch (const Error& e) {
        if (notes) notes->push_back(fmt::format("the GPU leases were not checked: {}", e.what()));
    }
    std::sort(out.begin(), out.end(), [](const EnvStatus& a, const EnvStatus& b) {
        return std::tie(a.repo, a.model) < std::tie(b.repo, b.model);
    });
    return out;
}

nlohmann::json to_json(const std::vector<EnvStatus>& environments) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& e : environments) {
        nlohmann::json ports = nlohmann::json::array();
        for (const auto& p : e.endpoints)
            ports.push_back({{"name", p.name}, {"container_port", p.container_port}, {"host_address", p.host_address},
                             {"host_port", p.host_port}, {"url", p.url}});
        rows.push_back({{"model", e.model}, {"container", e.container}, {"state", e.state}, {"image", e.image},
                        {"image_id", e.image_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.image_id)},
                        {"repo", e.repo}, {"worktree", e.worktree}, {"gpus", e.gpus}, {"ports", ports},
                        {"started_at", e.started_at},
                        {"drift", e.drift ? nlohmann::json(*e.drift) : nlohmann::json(nullptr)},
                        {"moved_from", e.moved_from.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.moved_from)}});
    }
    return {{"version", 1}, {"environments", rows}};
}

std::optional<std::vector<std::string>> container_drift(const git::Repository& repo, const ContainerInfo& info) {
    const auto fingerprint = info.labels.find(label::settings);
    const auto branch = info.labels.find(label::branch);
    const auto model = info.labels.find(label::model);
    if (fingerprint == info.labels.end() || branch == info.labels.end() || model == info.labels.end()) return std::nullopt;
    const auto tip = repo.resolve_commit("refs/heads/" + branch->second);
    if (!tip) return std::nullopt;
    std::optional<std::string> text;
    try {
        text = repo.read_config_file_at(*tip, config::modelenv_file_name);
    } catch (const Error&) {
        return std::vector<std::string>{fmt::format("{} at {} does not load", config::modelenv_file_name, branch->second)};
    }
    if (!text) return std::vector<std::string>{fmt::format("{} is gone from {}", config::modelenv_file_name, branch->second)};
    nlohmann::json now;
    try {
        now = config::container_settings(
            config::load_modelenv_text(*text, branch->second + ":" + config::modelenv_file_name));
    } catch (const Error& e) {
        return std::vector<std::string>{fmt::format("{} at {} does not load", config::modelenv_file_name, branch->second)};
    }
    if (settings_fingerprint(now) == fingerprint->second) return std::vector<std::string>{};
    const auto launched = read_launch(repo.common_dir(), model->second);
    std::vector<std::string> drift;
    if (launched && settings_fingerprint(launched->settings) == fingerprint->second)
        drift = settings_drift(launched->settings, now);
    if (drift.empty()) drift.push_back("settings");
    return drift;
}

fs::path worktree_environment_file(git::Repository& repo, const std::optional<std::string>& model) {
    fs::path worktree;
    if (model) {
        worktree = resolve_target(repo, model).worktree;
    } else {
        const auto workdir = repo.workdir();
        if (!workdir)
            throw Error("this repository has no working tree, so it has no .modelenv.yaml to read",
                        "run this in a worktree, or name a file with --file");
        worktree = *workdir;
    }
    const fs::path file = worktree / config::modelenv_file_name;
    if (!fs::exists(file))
        throw Error(fmt::format("there is no {} in {}", config::modelenv_file_name, worktree.string()),
                    "write one that pins the image (see `man gitmodelenv`), e.g. `image: registry/team/pytorch:2.4.0`");
    return file;
}

namespace {

// The file pin rewrites: the worktree's .modelenv.yaml, or the file it links to (a committed
// link: several models sharing envs/shared.yaml), which stays a link. A link that leads out of
// the worktree is refused: what it points to is not the model's to rewrite.
fs::path file_to_pin(const fs::path& file) {
    std::error_code ec;
    const auto resolved = config::modelenv_link_target(file);
    if (!resolved)
        throw Error(fmt::format("{} is a link to {}, which is not a file of its worktree; nothing was written",
                                file.string(), fs::read_symlink(file, ec).string()),
                    "pin that file by hand (image: name:tag@sha256:<digest>), or replace the link with a file");
    return *resolved;
}

}  // namespace

PinResult pin_image(git::Repository& repo, const fs::path& link_or_file) {
    const fs::path file = file_to_pin(link_or_file);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    const config::ModelEnv env = config::load_modelenv_text(text, file.string());
    PinResult result;
    result.file = file;
    result.before = env.image.to_string();
    if (env.image.pinned_by_digest())
        throw Error(fmt::format("{} already pins the image by digest: {}", file.string(), result.before));
    const Engine engine = select_engine(repo.config(), env.engine);
    const auto image = inspect_image(engine, result.before);
    if (!image)
        throw Error(fmt::format("{} has no image {} here, so there is nothing to pin", engine.name, result.before),
                    fmt::format("pull it first (`{} pull {}`), or start the environment once", engine.name, result.before));
    const std::string digest = repo_digest_for(*image, env.image);
    if (digest.empty())
        throw Error(fmt::format("the image {} ({}) has no registry digest: it was built or imported here and never pushed",
                                result.before, short_image_id(image->id)),
                    "push it to the registry, pull it back, then pin");
    const std::string pinned = config::pin_image_digest(text, file.string(), digest);
    // The link may have been pointed elsewhere (or a folder on its way swapped) while the engine
    // answered: the file written is the one read.
    if (file_to_pin(link_or_file) != file)
        throw Error(fmt::format("{} changed while it was being rewritten (it leads elsewhere now); nothing was written",
                                link_or_file.string()),
                    "look at the file, then run the command again");
    result.after = result.before + "@" + digest;
    result.image_id = image->id;
    // Written beside the file and renamed over it, with its mode and ACL: never half a file; and
    // only if it still holds what was read (an editor's save while the engine answered is kept).
    write_file_atomically(file, pinned, FileMode{0644, false, true}, text);
    return result;
}

}  // namespace gm::env
