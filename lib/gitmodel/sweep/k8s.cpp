#include "gitmodel/sweep/k8s.hpp"

#include "gitmodel/config/modelenv.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/core/wording.hpp"
#include "gitmodel/sweep/plan.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace gm::sweep {

namespace fs = std::filesystem;

namespace {

// A YAML scalar that means exactly this text: a JSON string is a valid YAML double-quoted scalar.
std::string scalar(const std::string& text) { return nlohmann::json(text).dump(); }

// Text for a YAML comment line: line breaks escaped, so a folder name never starts a line of YAML.
std::string comment_text(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return out;
}

// The folder that holds the repository, every run's worktree and the persist folders: mounted
// into the pods at the same path, so that every path the runs are given is valid there too.
fs::path shared_root(const Sweep& sweep) {
    fs::path root = sweep.common_dir.lexically_normal();
    const auto narrow = [&](const fs::path& path) {
        fs::path common;
        const fs::path normal = path.lexically_normal();
        auto a = root.begin();
        auto b = normal.begin();
        for (; a != root.end() && b != normal.end() && *a == *b; ++a, ++b) common /= *a;
        root = common;
    };
    for (const auto& run : sweep.runs) narrow(run.worktree);
    narrow(sweep.logs_dir);
    narrow(sweep.checkpoints_dir);
    return root.empty() ? fs::path("/") : root;
}

// A CPU quantity as Kubernetes writes it: whole CPUs, else millicores ("1.5" -> "1500m").
std::string cpu_quantity(double cpus) {
    const auto millis = static_cast<long long>(cpus * 1000.0 + 0.5);
    return millis % 1000 == 0 ? std::to_string(millis / 1000) : fmt::format("{}m", millis);
}

// The model's container settings, when it has a .modelenv.yaml.
std::optional<config::ModelEnv> model_environment(const Sweep& sweep) {
    const fs::path file = sweep.model_worktree / config::modelenv_file_name;
    std::error_code ec;
    if (sweep.model_worktree.empty() || !fs::exists(file, ec)) return std::nullopt;
    return config::load_modelenv_file(file);
}

}  // namespace

std::string job_name(const Sweep& sweep) {
    std::string name;
    for (char c : "gm-" + sweep.model + "-sweep-" + sweep.id) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        name += keep ? c : '-';
    }
    if (name.size() > 63) name = name.substr(name.size() - 63);
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    return name;
}

std::string k8s_name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > 63) return "is longer than 63 characters";
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return fmt::format("contains '{}'; a Kubernetes name has only lower-case letters, digits and '-'", c);
    if (name.front() == '-' || name.back() == '-') return "begins or ends with '-'";
    return {};
}

std::string indexed_job_manifest(const Sweep& sweep, const K8sExport& options) {
    const auto environment = model_environment(sweep);
    // Pod k (JOB_COMPLETION_INDEX) runs run k+1: its worktree, parameters, persist folders and command.
    std::string dispatch = "case \"$JOB_COMPLETION_INDEX\" in\n";
    for (const auto& run : sweep.runs) {
        std::vector<std::string> words;
        for (const auto& word : substitute(sweep.command, run.params)) words.push_back(shell_word(word));
        std::string exports = fmt::format(
            "export GIT_MODEL_MODEL={} GIT_MODEL_SWEEP={} GIT_MODEL_RUN={} GIT_MODEL_PARAMS={} GIT_MODEL_LOGS={} "
            "GIT_MODEL_CHECKPOINTS={}",
            shell_word(run.model), shell_word(sweep.id), run.number, shell_word((run.worktree / params_file_name).string()),
            shell_word(sweep.logs_dir.string()), shell_word(run_checkpoints(sweep, run.number).string()));
        for (const auto& [name, value] : run.params) exports += fmt::format(" {}={}", parameter_variable(name), shell_word(value));
        dispatch += fmt::format("{}) mkdir -p {} && cd {} && {} && exec {} ;;\n", run.number - 1,
                                shell_word(run_checkpoints(sweep, run.number).string()), shell_word(run.worktree.string()),
                                exports, join(words, " "));
    }
    dispatch += "*) echo \"no run for index $JOB_COMPLETION_INDEX\" >&2; exit 2 ;;\nesac\n";

    const int parallelism = sweep.max_parallel > 0 ? std::min<int>(sweep.max_parallel, static_cast<int>(sweep.runs.size()))
                                                   : static_cast<int>(sweep.runs.size());
    const std::string root = shared_root(sweep).string();
    std::string yaml;
    yaml += fmt::format("# Sweep {} of model {}: {} as a Kubernetes Indexed Job (written by git model sweep).\n",
                        comment_text(sweep.id), comment_text(sweep.model), count_of(sweep.runs.size(), "run"));
    yaml += fmt::format("# The worktrees under {} must be on storage mounted at that path on every node.\n",
                        comment_text(root));
    yaml += "apiVersion: batch/v1\nkind: Job\nmetadata:\n";
    yaml += fmt::format("  name: {}\n", scalar(job_name(sweep)));
    yaml += "  labels:\n";
    yaml += fmt::format("    io.git-model/model: {}\n", scalar(sweep.model));
    yaml += fmt::format("    io.git-model/sweep: {}\n", scalar(sweep.id));
    if (options.queue) yaml += fmt::format("    kueue.x-k8s.io/queue-name: {}\n", scalar(*options.queue));
    yaml += "spec:\n  completionMode: Indexed\n";
    yaml += fmt::format("  completions: {}\n  parallelism: {}\n", sweep.runs.size(), parallelism);
    // --retries: pod restarts per index; --max-failures N: Kubernetes fails the Job when the failed
    // indexes *exceed* maxFailedIndexes, so N-1 stops it at N, as the other backends stop at N.
    yaml += fmt::format("  backoffLimitPerIndex: {}\n  maxFailedIndexes: {}\n", sweep.retries,
                        sweep.max_failures > 0 ? std::min<std::size_t>(static_cast<std::size_t>(sweep.max_failures - 1),
                                                                       sweep.runs.size())
                                               : sweep.runs.size());
    yaml += "  template:\n    metadata:\n      labels:\n";
    yaml += fmt::format("        io.git-model/sweep: {}\n", scalar(sweep.id));
    yaml += "    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n";
    yaml += fmt::format("        image: {}\n", scalar(sweep.image));
    yaml += "        command:\n        - \"/bin/sh\"\n        - \"-c\"\n";  // layering: inside the container
    yaml += fmt::format("        - {}\n", scalar(dispatch));
    if (environment && !environment->env.empty()) {
        yaml += "        env:\n";
        for (const auto& [name, value] : environment->env)
            yaml += fmt::format("        - name: {}\n          value: {}\n", scalar(name), scalar(value));
    }
    yaml += "        resources:\n          limits:\n";
    yaml += fmt::format("            nvidia.com/gpu: {}\n", sweep.gpus_per_run);
    if (environment && environment->memory_bytes)
        yaml += fmt::format("            memory: {}\n", scalar(std::to_string(*environment->memory_bytes)));
    if (environment && environment->cpus) yaml += fmt::format("            cpu: {}\n", scalar(cpu_quantity(*environment->cpus)));
    const bool shm = environment && environment->shm_bytes;
    yaml += "        volumeMounts:\n        - name: shared\n";
    yaml += fmt::format("          mountPath: {}\n", scalar(root));
    if (shm) yaml += "        - name: shm\n          mountPath: \"/dev/shm\"\n";
    yaml += "      volumes:\n      - name: shared\n        hostPath:\n";
    yaml += fmt::format("          path: {}\n          type: Directory\n", scalar(root));
    // shm_size: a memory-backed emptyDir at /dev/shm, the way Kubernetes gives a pod more than 64 MiB.
    if (shm)
        yaml += fmt::format("      - name: shm\n        emptyDir:\n          medium: Memory\n          sizeLimit: {}\n",
                            scalar(std::to_string(*environment->shm_bytes)));
    return yaml;
}

}  // namespace gm::sweep
