#include "gitmodel/env/image.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shared_dir.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace gm::env {

namespace fs = std::filesystem;

namespace {

bool is_hex64(const std::string& text) {
    return text.size() == 64 &&
           std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "docker.io/library/x" and "x" name the same repository.
std::string canonical_repository(std::string name) {
    for (const char* prefix : {"docker.io/", "index.docker.io/"})
        if (name.rfind(prefix, 0) == 0) name = name.substr(std::string(prefix).size());
    if (name.rfind("library/", 0) == 0) name = name.substr(8);
    return name;
}

}  // namespace

std::string normalise_image_id(const std::string& id) {
    if (id.rfind("sha256:", 0) == 0) return id;
    return is_hex64(id) ? "sha256:" + id : id;
}

std::string short_image_id(const std::string& id) {
    const std::string full = normalise_image_id(id);
    return full.rfind("sha256:", 0) == 0 ? full.substr(0, 7 + 12) : full;
}

std::pair<std::optional<ContainerInfo>, std::optional<ImageIdentity>> find_container_and_image(
    const Engine& engine, const std::string& name, const std::string& reference) {
    proc::RunOptions options;
    options.timeout = engine.timeout;
    const auto results = proc::run_concurrently(
        {engine.command({"ps", "--all", "--no-trunc", "--filter", "name=^" + name + "$", "--format",
                         engine.kind == EngineKind::podman ? "json" : "{{json .}}"}),
         engine.command({"image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", reference})},
        options);
    const auto& ps = results[0];
    if (!ps.ok())
        throw Error(fmt::format("'{} ps' {}{}{}", engine.name, ps.describe(), ps.err.empty() ? "" : ":\n",
                                engine_message(ps.err)));
    std::optional<ContainerInfo> container;
    for (auto& info : parse_container_list(ps.out))
        if (info.name == name) container = std::move(info);
    std::optional<ImageIdentity> image;
    if (results[1].ok()) image = parse_image_identity(results[1].out);
    return {std::move(container), std::move(image)};
}

std::optional<ImageIdentity> parse_image_identity(const std::string& output) {
    const std::string line = output.substr(0, output.find('\n'));
    const auto space = line.find(' ');
    if (space == std::string::npos) return std::nullopt;
    ImageIdentity image;
    image.id = normalise_image_id(line.substr(0, space));
    if (image.id.size() != 71 || !is_hex64(image.id.substr(7))) return std::nullopt;
    const auto digests = nlohmann::json::parse(line.substr(space + 1), nullptr, false);
    if (digests.is_array())
        for (const auto& d : digests)
            if (d.is_string()) image.repo_digests.push_back(d.get<std::string>());
    return image;
}

std::optional<ImageIdentity> inspect_image(const Engine& engine, const std::string& reference) {
    proc::RunOptions options;
    options.timeout = engine.timeout;
    const auto result =
        proc::run(engine.command({"image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", reference}), options);
    if (!result.ok()) return std::nullopt;
    return parse_image_identity(result.out);
}

namespace {

// Why a pull failed, in the engine's words: its "Error: ..." lines, without the progress and
// the retries that came before (a piped pull printed them all; a terminal has seen them live).
std::string pull_failure(const std::string& err) {
    std::vector<std::string> errors;
    for (const auto& line : split_records(err, '\n'))
        if (starts_with(line, "Error") || starts_with(line, "error")) errors.push_back(line);
    return errors.empty() ? engine_message(err) : join(errors, "\n");
}

}  // namespace

ImageIdentity pull_image(const Engine& engine, const std::string& reference, bool show_progress,
                         const std::function<void(long pid)>& on_start) {
    proc::RunOptions options;
    options.on_start = on_start;
    options.timeout = engine.start_timeout;
    // Its own process group (the timeout kills it whole); an interrupting signal that ends us is
    // passed on to it, and a kill -9 of us reaches it as SIGTERM: either way the engine stops the
    // transfer and removes what it had written, instead of pulling on for minutes unseen.
    options.parent_death_signal = SIGTERM;
    options.tee_stderr = show_progress;
    if (show_progress)
        fmt::print(stderr, "git-model-env: {} is not here yet: {} pulls it before any GPU is taken (Ctrl-C stops it)\n",
                   reference, engine.name);
    const auto pulled = proc::run(engine.command({"pull", reference}), options);
    if (pulled.timed_out)
        throw Error(fmt::format("{} did not pull {} within {} s (model.env.startTimeout); it was stopped and nothing was "
                                "started", engine.name, reference, engine.start_timeout.count() / 1000),
                    fmt::format("pull it yourself (`{} pull {}`), or raise git config model.env.startTimeout", engine.name,
                                reference));
    if (!pulled.ok())
        throw Error(fmt::format("{} could not pull {} ({}):\n{}", engine.name, reference, pulled.describe(),
                                pull_failure(pulled.err)),
                    "nothing was started; check the image in .modelenv.yaml, and for a private registry log in "
                    "with `git model env login`");
    if (auto image = inspect_image(engine, reference)) return *image;
    throw Error(fmt::format("{} pulled {}, but cannot say which image it is now", engine.name, reference),
                fmt::format("look with `{} image inspect {}`; nothing was started", engine.name, reference));
}

std::string repo_digest_for(const ImageIdentity& image, const config::ImageRef& reference) {
    const std::string wanted =
        canonical_repository(reference.registry.empty() ? reference.path : reference.registry + "/" + reference.path);
    std::string only;
    for (const auto& entry : image.repo_digests) {
        const auto at = entry.find('@');
        if (at == std::string::npos) continue;
        const std::string digest = entry.substr(at + 1);
        if (canonical_repository(entry.substr(0, at)) == wanted) return digest;
        only = only.empty() || only == digest ? digest : "-";
    }
    return only == "-" ? "" : only;
}

namespace {

// The accounts cache folder, opened without following a link (every user of a shared repository
// writes to it): nullopt when it is not there as a folder.
std::optional<SharedDir> open_cache_folder(const fs::path& cache_dir) {
    UniqueFd fd(::open(cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return std::nullopt;
    return SharedDir::adopt(std::move(fd), cache_dir);
}

// This user's cached accounts of an image: another's file could give the container any
// accounts, so only the caller's own is believed.
std::optional<std::string> read_cached_accounts(const fs::path& cache_dir, const std::string& name) {
    const auto folder = open_cache_folder(cache_dir);
    if (!folder) return std::nullopt;
    const auto file = folder->read(name, max_account_files_bytes, nullptr, [](const SharedFile& found) {
        return found.owner == ::geteuid() ? std::string() : std::string("another user's");
    });
    if (!file) return std::nullopt;
    return file->content;
}

}  // namespace

std::optional<ImageAccounts> image_accounts(const Engine& engine, const std::string& image_id,
                                            const fs::path& cache_dir, std::string* why) {
    const std::string hex = image_id.rfind("sha256:", 0) == 0 ? image_id.substr(7) : image_id;
    const std::string cache_name = fmt::format("{}.{}.accounts", hex, ::geteuid());  // each user's own
    if (is_hex64(hex))
        if (const auto text = read_cached_accounts(cache_dir, cache_name)) return split_accounts(*text);
    proc::RunOptions options;
    options.timeout = engine.timeout;
    options.max_output = max_account_files_bytes;
    const auto result = proc::run(engine.command({"run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint",
                                                  "cat", image_id, "/etc/passwd", "/etc/group"}),
                                  options);
    // A read that was cut short is never used nor kept: the accounts in it would be a guess.
    if (result.timed_out || result.output_capped || result.signal != 0)
        throw Error(fmt::format("cannot read the accounts (/etc/passwd, /etc/group) of the image {}: {}", image_id,
                                result.output_capped
                                    ? fmt::format("they hold more than {} MiB", max_account_files_bytes >> 20)
                                : result.timed_out ? std::string("the engine did not answer in time")
                                                   : result.describe()),
                    "check the image (a normal one has a few KiB of accounts), or set user: image in .modelenv.yaml "
                    "to run as the image's own user without reading them");
    ImageAccounts accounts = split_accounts(result.out);
    if (accounts.passwd.empty()) {
        if (why)
            *why = fmt::format("cannot read the image's /etc/passwd ({})",
                               result.timed_out ? "the engine did not answer in time"
                                                : engine_message(result.err).substr(0, 200));
        return std::nullopt;
    }
    if (is_hex64(hex) && result.ok()) {  // a failed read (no /etc/group, say) is asked again next time
        std::error_code ec;
        fs::create_directories(cache_dir, ec);
        try {  // a cache: one that cannot be written (a link or another's file there) is asked again next time
            if (auto folder = open_cache_folder(cache_dir)) folder->write(cache_name, result.out, 0600, true);
        } catch (const Error&) {
        }
    }
    return accounts;
}

}  // namespace gm::env
