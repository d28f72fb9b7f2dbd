#include "gitmodel/ci/pipeline.hpp"

#include "gitmodel/core/atomic_file.hpp"
#include "gitmodel/core/error.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <optional>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gm::ci {

namespace {

// What ends each image line the pipeline writes: the lines that follow the pin, and the only
// ones `--update` rewrites and the pre-push hook checks (a job the team adds keeps its own image).
constexpr std::string_view pin_marker = "# follows .modelenv.yaml";

// A generated image line's text after "image: ".
std::string pinned_value(const std::string& image) { return yaml_quote(image) + "  " + std::string(pin_marker); }

constexpr const char* header =
    "# The team's pipeline, written by `git model ci init` (git-model {version}); see git-model-ci(1).\n"
    "#  - every push to feature/*: the tests, without a GPU, in the image .modelenv.yaml pins;\n"
    "#  - model branches (feature/model-*): then `git model bench --quick` and a short training run\n"
    "#    (GIT_MODEL_SMOKE=1: the script keeps it short) on one GPU, in the same image.\n"
    "# The GPU job needs git-model in the image (install its .deb in the Dockerfile) and a runner\n"
    "# {runner}.\n"
    "# Edit the commands freely; re-running `git model ci init --force` overwrites this file.\n"
    "# The image lines marked \"follows .modelenv.yaml\" are the ones `git model ci init --update`\n"
    "# rewrites when the pin changes; image lines without the mark (a job of your own) are left as they are.\n";

std::string gitlab(const PipelineOptions& o) {
    std::string y = fmt::format(header, fmt::arg("version", GM_VERSION),
                                fmt::arg("runner", "tagged gpu that gives each job one GPU"));
    // Merge-request pipelines too; a branch with an open request runs only the request's pipeline.
    y += "workflow:\n";
    y += "  rules:\n";
    y += "    - if: '$CI_PIPELINE_SOURCE == \"merge_request_event\"'\n";
    y += "    - if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS'\n";
    y += "      when: never\n";
    y += "    - if: '$CI_COMMIT_BRANCH'\n\n";
    y += "stages: [test, gpu]\n\n";
    y += "test:\n";
    y += "  stage: test\n";
    y += fmt::format("  image: {}\n", pinned_value(o.image));
    y += "  rules:\n";
    y += "    - if: '$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH =~ /^feature\\//'\n";
    y += "    - if: '$CI_PIPELINE_SOURCE == \"merge_request_event\" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME =~ /^feature\\//'\n";
    y += "  variables:\n";
    y += "    CUDA_VISIBLE_DEVICES: \"\"\n";
    y += "  script:\n";
    y += fmt::format("    - {}\n\n", yaml_quote(o.test_command));
    y += "gpu-train:\n";
    y += "  stage: gpu\n";
    y += fmt::format("  image: {}\n", pinned_value(o.image));
    y += "  needs: [test]\n";
    y += "  # One GPU: a runner with this tag, e.g. one Docker runner per GPU (gpus = \"device=N\", concurrent = 1).\n";
    y += "  tags: [gpu]\n";
    y += fmt::format("  timeout: {}m\n", o.gpu_minutes);
    y += "  rules:\n";
    y += "    - if: '$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH =~ /^feature\\/model-/'\n";
    y += "    - if: '$CI_PIPELINE_SOURCE == \"merge_request_event\" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME =~ /^feature\\/model-/'\n";
    y += "  variables:\n";
    y += "    GIT_MODEL_SMOKE: \"1\"\n";
    y += "  script:\n";
    y += "    - git model bench --quick\n";
    y += fmt::format("    - {}\n", yaml_quote(o.train_command));
    return y;
}

std::string github(const PipelineOptions& o) {
    std::string y = fmt::format(header, fmt::arg("version", GM_VERSION),
                                fmt::arg("runner", "labelled self-hosted and gpu, with the NVIDIA container toolkit"));
    y += "name: git-model\n\n";
    y += "on:\n";
    y += "  push:\n";
    y += "    branches: ['feature/**']\n\n";
    y += "jobs:\n";
    y += "  test:\n";
    y += "    runs-on: ubuntu-latest\n";
    y += "    container:\n";
    y += fmt::format("      image: {}\n", pinned_value(o.image));
    y += "    env:\n";
    y += "      CUDA_VISIBLE_DEVICES: \"\"\n";
    y += "    steps:\n";
    y += "      - uses: actions/checkout@v4\n";
    y += "      - name: Tests without a GPU\n";
    y += fmt::format("        run: {}\n\n", yaml_quote(o.test_command));
    y += "  gpu-train:\n";
    y += "    needs: test\n";
    y += "    if: startsWith(github.ref_name, 'feature/model-')\n";
    y += "    runs-on: [self-hosted, gpu]\n";
    y += fmt::format("    timeout-minutes: {}\n", o.gpu_minutes);
    y += "    container:\n";
    y += fmt::format("      image: {}\n", pinned_value(o.image));
    y += "      options: --gpus 1\n";
    y += "    env:\n";
    y += "      GIT_MODEL_SMOKE: \"1\"\n";
    y += "    steps:\n";
    y += "      - uses: actions/checkout@v4\n";
    y += "      - name: GPU check\n";
    y += "        run: git model bench --quick\n";
    y += "      - name: Short training run\n";
    y += fmt::format("        run: {}\n", yaml_quote(o.train_command));
    return y;
}

}  // namespace

fs::path pipeline_path(Forge forge) {
    return forge == Forge::gitlab ? fs::path(".gitlab-ci.yml") : fs::path(".github") / "workflows" / "git-model.yml";
}

std::string default_train_command(const config::ModelEnv& env) {
    switch (env.command.form) {
    case config::Command::Form::shell:
        if (!env.command.shell.empty()) return env.command.shell;
        break;
    case config::Command::Form::exec:
        if (!env.command.argv.empty()) {
            std::vector<std::string> words;
            for (const auto& arg : env.command.argv) words.push_back(hint_word(arg));  // as is when plainly safe
            return join(words, " ");
        }
        break;
    case config::Command::Form::none: break;
    }
    return "python train.py";
}

std::string yaml_quote(std::string_view text) { return nlohmann::json(std::string(text)).dump(); }

std::string render_pipeline(Forge forge, const PipelineOptions& options) {
    return forge == Forge::gitlab ? gitlab(options) : github(options);
}

namespace {

// Refuses a link at any folder between the worktree and the pipeline (.github, .github/workflows):
// one planted there (another user of a shared worktree, a careless `ln -s`) would have the
// pipeline written wherever it points.
void refuse_linked_folders(const fs::path& root, Forge forge) {
    fs::path folder = root;
    const fs::path relative = pipeline_path(forge).parent_path();
    for (const auto& part : relative) {
        folder /= part;
        std::error_code ec;
        if (fs::is_symlink(fs::symlink_status(folder, ec)))
            throw Error(fmt::format("{} is a link (to {}); nothing was written", folder.string(),
                                    fs::read_symlink(folder, ec).string()),
                        "the pipeline is written only into the worktree's own folders: remove the link, or move it away");
    }
}

}  // namespace

fs::path write_pipeline(const fs::path& root, Forge forge, const PipelineOptions& options, bool force) {
    const fs::path target = root / pipeline_path(forge);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec)) && !force) {
        throw Error(fmt::format("{} exists already; nothing was written", target.string()),
                    "compare with `git diff` after `git model ci init --force`, which overwrites it");
    }
    if (fs::is_directory(target, ec)) throw Error(fmt::format("{} is a folder; nothing was written", target.string()));
    refuse_linked_folders(root, forge);
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", target.parent_path().string(), ec.message()));
    // A file replaced with --force keeps its mode and ACL (a teammate's access, a private file), as
    // std::ofstream would; a new one gets 0666 less the umask.
    write_file_atomically(target, render_pipeline(forge, options), FileMode{0666, true, true});
    return target;
}

fs::path update_pipeline_file(const fs::path& root, Forge forge, const std::string& image) {
    const fs::path target = root / pipeline_path(forge);
    std::error_code ec;
    refuse_linked_folders(root, forge);
    if (!fs::is_regular_file(fs::symlink_status(target, ec)))
        throw Error(fmt::format("no {} to update; nothing was written", target.string()),
                    fmt::format("write one first: git model ci init --{}", forge == Forge::gitlab ? "gitlab" : "github"));
    std::ifstream in(target, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw Error(fmt::format("cannot read {}", target.string()));
    if (const auto problems = pipeline_image_problems(text); !problems.empty())
        throw Error(fmt::format("{}: an image line that follows .modelenv.yaml cannot be rewritten in place ({}); "
                                "nothing was written",
                                target.string(), join(problems, "; ")),
                    "write the image as a plain value on the marked line (or on the name: line under a marked "
                    "`image:`), then run `git model ci init --update` again");
    if (pipeline_images(text).empty())
        throw Error(fmt::format("no image line of {} follows .modelenv.yaml (none is marked \"{}\"); nothing was written",
                                target.string(), pin_marker),
                    "add that mark after the image lines that should follow the pin, or write the file again with "
                    "`git model ci init --force`");
    write_file_atomically(target, update_pipeline_images(text, image), FileMode{0666, true, true});  // its own mode kept
    return target;
}

namespace {

// A "key: value" line of a pipeline (image:, or name: under a mapping image:): where its value
// is, the value (quotes removed), whether it carries the mark, and the keys above it
// ("jobs/test/container").
struct ImageLine {
    std::size_t indent = 0;
    std::size_t value_begin = 0;  // the value as written (quotes included), within the line
    std::size_t value_end = 0;
    std::string value;
    bool marked = false;  // a comment after it that begins "follows .modelenv.yaml" (any case, spacing)
    std::string problem;  // why the value cannot be rewritten in place (an alias, a tag, flow syntax)
    std::string path;
};

// Where a quoted value that begins at `at` ends (after its closing quote; the line's end when none).
std::size_t quoted_end(std::string_view line, std::size_t at) {
    const char quote = line[at];
    for (std::size_t k = at + 1; k < line.size(); ++k) {
        if (quote == '"' && line[k] == '\\') ++k;
        else if (line[k] == quote && quote == '\'' && k + 1 < line.size() && line[k + 1] == '\'') ++k;
        else if (line[k] == quote) return k + 1;
    }
    return line.size();
}

std::string unquoted(std::string_view value) {
    if (value.size() < 2 || (value.front() != '"' && value.front() != '\'') || value.back() != value.front())
        return std::string(value);
    const char quote = value.front();
    std::string inner;
    for (std::size_t k = 1; k + 1 < value.size(); ++k) {
        if (quote == '"' && value[k] == '\\' && k + 2 < value.size()) ++k;
        else if (quote == '\'' && value[k] == '\'' && k + 2 < value.size()) ++k;
        inner += value[k];
    }
    return inner;
}

// Whether a YAML comment's text (after '#') is the mark: spacing and case are a teammate's to vary.
bool is_mark(std::string_view comment) {
    std::string words;
    for (const char c : comment) {
        if (c == ' ' || c == '\t') {
            if (!words.empty() && words.back() != ' ') words += ' ';
        } else {
            words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    if (!words.empty() && words.front() == ' ') words.erase(0, 1);
    return words.rfind(pin_marker.substr(2), 0) == 0;  // "follows .modelenv.yaml"
}

std::size_t skip_blanks(std::string_view line, std::size_t at) {
    const auto next = line.find_first_not_of(" \t", at);
    return next == std::string_view::npos ? line.size() : next;
}

// Why a plain value that begins with `c` is no image name to rewrite ("" when it is one).
std::string value_problem(char c) {
    switch (c) {
        case '*': return "its value is an alias (*name): mark the line its anchor (&name) is on instead";
        case '!': return "its value carries a YAML tag (!...)";
        case '{':
        case '[': return "its value is written in flow syntax ({...} or [...])";
        case '|':
        case '>': return "its value is a block scalar (| or >)";
        default: return "";
    }
}

// The line as "key: value", when it is one (key as "image:"); an anchor (&name) before the value
// stays where it is, and a value that is only a comment is empty (a mapping follows below).
std::optional<ImageLine> key_line(std::string_view line, std::string_view key) {
    const auto indent = line.find_first_not_of(" \t");
    if (indent == std::string_view::npos || line.substr(indent, key.size()) != key) return std::nullopt;
    ImageLine found;
    found.indent = indent;
    std::size_t at = skip_blanks(line, indent + key.size());
    if (at < line.size() && line[at] == '&') {  // an anchor: the value follows it
        const auto blank = line.find_first_of(" \t", at);
        at = blank == std::string_view::npos ? line.size() : skip_blanks(line, blank);
    }
    std::size_t end = line.size();
    if (at < line.size() && line[at] == '#') {
        end = at;
    } else if (at < line.size() && (line[at] == '"' || line[at] == '\'')) {
        end = quoted_end(line, at);
    } else {
        for (std::size_t k = at; k < line.size(); ++k)
            if (line[k] == '#' && k > at && (line[k - 1] == ' ' || line[k - 1] == '\t')) {
                end = k;
                break;
            }
    }
    while (end > at && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) --end;
    found.value_begin = at;
    found.value_end = end;
    found.value = unquoted(line.substr(at, end - at));
    if (at < end) found.problem = value_problem(line[at]);
    const auto comment = line.find('#', end);
    if (comment != std::string_view::npos) found.marked = is_mark(trim_end(std::string(line.substr(comment + 1)), "\r"));
    return found;
}

// The keys a line sits under, from indentation ("jobs", "test", "container"): enough of YAML's
// block mappings to place the image lines the pipeline writes.
class KeyPath {
public:
    // Takes a line; returns the path of the keys above it (before the line's own key counts).
    std::string above(std::string_view line) {
        const auto indent = line.find_first_not_of(" \t");
        if (indent == std::string_view::npos || line[indent] == '#' || line[indent] == '\r') return join_path(line.size());
        while (!keys_.empty() && keys_.back().first >= indent) keys_.pop_back();
        std::string path = join_path(indent);
        const auto colon = line.find(':', indent);
        const bool key = line[indent] != '-' && colon != std::string_view::npos &&
                         line.substr(indent, colon - indent).find_first_of(" \t\"'{[") == std::string_view::npos &&
                         (colon + 1 == line.size() || line[colon + 1] == ' ' || line[colon + 1] == '\r');
        if (key) keys_.emplace_back(indent, std::string(line.substr(indent, colon - indent)));
        return path;
    }

private:
    std::string join_path(std::size_t below) const {
        std::string path;
        for (const auto& [indent, key] : keys_)
            if (indent < below) path += (path.empty() ? "" : "/") + key;
        return path;
    }
    std::vector<std::pair<std::size_t, std::string>> keys_;
};

// Whether an image line follows the pin: with marks in the file, a marked one; in a file an older
// git-model wrote before the mark, the generated jobs' own (GitLab's test and gpu-train jobs,
// GitHub's jobs.<job>.container), so that a job the team added keeps its image.
bool follows_pin(const ImageLine& line, bool file_has_marks) {
    if (file_has_marks) return line.marked;
    return line.path == "test" || line.path == "gpu-train" || line.path == "jobs/test/container" ||
           line.path == "jobs/gpu-train/container";
}

// A value that follows the pin, placed in the whole text.
struct PinnedValue {
    std::size_t begin = 0;  // offsets in the text
    std::size_t end = 0;
    std::string value;
    bool add_mark = false;  // an older file's line: the mark is added after the value
};

// What follows the pin in a pipeline's text: the values to rewrite, and why any line that should
// follow it cannot be rewritten in place ("line 7: ...").
struct PinScan {
    std::vector<PinnedValue> values;
    std::vector<std::string> problems;
};

// Whether a line's value opens a YAML block scalar ("script: |", "- >-", "run: |2"): the lines
// indented deeper below it are text (a script, a heredoc), never keys.
bool opens_block_scalar(std::string_view line) {
    std::string text(line);
    if (const auto comment = text.find(" #"); comment != std::string::npos) text.erase(comment);
    text = trim_end(text, " \t\r");
    const auto blank = text.find_last_of(" \t");
    if (blank == std::string::npos) return false;
    const std::string token = text.substr(blank + 1);
    if (token.empty() || (token[0] != '|' && token[0] != '>') ||
        token.find_first_not_of("+-0123456789", 1) != std::string::npos)
        return false;
    const std::string before = trim_end(text.substr(0, blank), " \t");
    return !before.empty() && (before.back() == ':' || before.back() == '-');
}

// Follows the block scalars of a text line by line.
class BlockScalars {
public:
    // Whether the line is text of a block scalar opened above it.
    bool inside(std::string_view line) {
        const auto indent = line.find_first_not_of(" \t\r");
        if (indent == std::string_view::npos) return open_;  // blank lines belong to it
        if (open_ && indent > opener_indent_) return true;
        open_ = opens_block_scalar(line);
        opener_indent_ = indent;
        return false;
    }

private:
    bool open_ = false;
    std::size_t opener_indent_ = 0;  // the indent of the line that opened it
};

// Whether any image line carries the mark.
bool has_marked_line(std::string_view text) {
    BlockScalars blocks;
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const auto line = text.substr(start, end - start);
        start = end + 1;
        if (blocks.inside(line)) continue;
        const auto found = key_line(line, "image:");
        if (found && found->marked) return true;
    }
    return false;
}

// Reads a pipeline line by line: an image line that follows the pin gives its value; one whose
// value is empty is GitLab's mapping form, whose "name:" below it gives the value.
class PinScanner {
public:
    explicit PinScanner(bool marks) : marks_(marks) {}

    // Takes the next line, which begins at `start` in the text.
    void take(std::string_view line, std::size_t start) {
        ++number_;
        if (blocks_.inside(line)) return;
        const std::string path = keys_.above(line);
        if (mapping_line_ != 0) take_in_mapping(line, start);
        auto found = key_line(line, "image:");
        if (!found) return;
        found->path = path;
        if (!follows_pin(*found, marks_)) return;
        if (!found->problem.empty()) {
            problem(number_, found->problem);
        } else if (found->value_begin == found->value_end) {
            mapping_line_ = number_;
            mapping_indent_ = found->indent;
            mapping_child_indent_ = std::string_view::npos;
        } else {
            scan_.values.push_back({start + found->value_begin, start + found->value_end, found->value, !found->marked});
        }
    }

    // What was found, once every line was taken.
    PinScan finish() {
        if (mapping_line_ != 0) problem(mapping_line_, "the image is a mapping without a name: line below it");
        return std::move(scan_);
    }

private:
    void problem(int number, const std::string& what) { scan_.problems.push_back(fmt::format("line {}: {}", number, what)); }

    // A line below a marked "image:" without a value: its own "name:" (a key of the mapping
    // itself, not of one nested in it such as docker:) is the image; a line back at the image's
    // indent ends the mapping.
    void take_in_mapping(std::string_view line, std::size_t start) {
        const auto indent = line.find_first_not_of(" \t\r");
        if (indent == std::string_view::npos || line[indent] == '#') return;
        if (indent <= mapping_indent_) {
            problem(mapping_line_, "the image is a mapping without a name: line below it");
            mapping_line_ = 0;
            return;
        }
        if (mapping_child_indent_ == std::string_view::npos) mapping_child_indent_ = indent;  // the mapping's own keys
        if (indent != mapping_child_indent_) return;
        const auto name = key_line(line, "name:");
        if (!name) return;
        if (!name->problem.empty()) problem(number_, name->problem);
        else if (name->value_begin == name->value_end) problem(number_, "the image's name: is empty");
        else scan_.values.push_back({start + name->value_begin, start + name->value_end, name->value, false});
        mapping_line_ = 0;
    }

    const bool marks_;
    KeyPath keys_;
    PinScan scan_;
    int number_ = 0;
    BlockScalars blocks_;
    int mapping_line_ = 0;  // the line of a marked image: awaiting its name: (0: none)
    std::size_t mapping_indent_ = 0;
    std::size_t mapping_child_indent_ = std::string_view::npos;  // the indent of its own keys, once seen
};

PinScan scan_pinned(std::string_view text) {
    PinScanner scanner(has_marked_line(text));
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        scanner.take(text.substr(start, end - start), start);
        start = end + 1;
    }
    return scanner.finish();
}

}  // namespace

bool is_generated_pipeline(std::string_view text) {
    return text.find("written by `git model ci init`") != std::string_view::npos;
}

std::vector<std::string> pipeline_images(std::string_view text) {
    std::vector<std::string> images;
    for (auto& found : scan_pinned(text).values) images.push_back(std::move(found.value));
    return images;
}

std::vector<std::string> pipeline_image_problems(std::string_view text) { return scan_pinned(text).problems; }

std::string update_pipeline_images(std::string_view text, const std::string& image) {
    std::string out;
    std::size_t copied = 0;
    for (const auto& found : scan_pinned(text).values) {
        // The value alone changes; an unmarked (older) line gets the mark.
        out += text.substr(copied, found.begin - copied);
        out += yaml_quote(image);
        if (found.add_mark) out += "  " + std::string(pin_marker);
        copied = found.end;
    }
    out += text.substr(copied);
    return out;
}

}  // namespace gm::ci
