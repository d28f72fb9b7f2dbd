#include "gitmodel/sweep/k8s.hpp"

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

// A word for the pod's /bin/sh, single-quoted: the pod's shell only picks the run by index.
std::string sh_word(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

// The folder that holds the repository and every run's worktree: mounted into the pods at the same path.
fs::path shared_root(const Sweep& sweep) {
    fs::path root = sweep.common_dir.lexically_normal();
    for (const auto& run : sweep.runs) {
        fs::path common;
        auto a = root.begin();
        auto b = run.worktree.begin();
        for (; a != root.end() && b != run.worktree.end() && *a == *b; ++a, ++b) common /= *a;
        root = common;
    }
    return root.empty() ? fs::path("/") : root;
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

std::string indexed_job_manifest(const Sweep& sweep) {
    // Pod k (JOB_COMPLETION_INDEX) runs run k+1: its worktree, parameters and command.
    std::string dispatch = "case \"$JOB_COMPLETION_INDEX\" in\n";
    for (const auto& run : sweep.runs) {
        std::vector<std::string> words;
        for (const auto& word : substitute(sweep.command, run.params)) words.push_back(sh_word(word));
        std::string exports = fmt::format("export GIT_MODEL_MODEL={} GIT_MODEL_SWEEP={} GIT_MODEL_RUN={}",
                                          sh_word(run.model), sh_word(sweep.id), run.number);
        for (const auto& [name, value] : run.params) exports += fmt::format(" {}={}", parameter_variable(name), sh_word(value));
        dispatch += fmt::format("{}) cd {} && {} && exec {} ;;\n", run.number - 1, sh_word(run.worktree.string()), exports,
                                join(words, " "));
    }
    dispatch += "*) echo \"no run for index $JOB_COMPLETION_INDEX\" >&2; exit 2 ;;\nesac\n";

    const int parallelism = sweep.max_parallel > 0 ? std::min<int>(sweep.max_parallel, static_cast<int>(sweep.runs.size()))
                                                   : static_cast<int>(sweep.runs.size());
    const std::string root = shared_root(sweep).string();
    std::string yaml;
    yaml += fmt::format("# Sweep {} of model {}: {} as a Kubernetes Indexed Job (written by git model sweep).\n",
                        sweep.id, sweep.model, count_of(sweep.runs.size(), "run"));
    yaml += fmt::format("# The worktrees under {} must be on storage mounted at that path on every node.\n", root);
    yaml += "apiVersion: batch/v1\nkind: Job\nmetadata:\n";
    yaml += fmt::format("  name: {}\n", scalar(job_name(sweep)));
    yaml += "  labels:\n";
    yaml += fmt::format("    io.git-model/model: {}\n", scalar(sweep.model));
    yaml += fmt::format("    io.git-model/sweep: {}\n", scalar(sweep.id));
    yaml += "spec:\n  completionMode: Indexed\n";
    yaml += fmt::format("  completions: {}\n  parallelism: {}\n", sweep.runs.size(), parallelism);
    yaml += "  backoffLimitPerIndex: 0\n  maxFailedIndexes: " + std::to_string(sweep.runs.size()) + "\n";
    yaml += "  template:\n    metadata:\n      labels:\n";
    yaml += fmt::format("        io.git-model/sweep: {}\n", scalar(sweep.id));
    yaml += "    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n";
    yaml += fmt::format("        image: {}\n", scalar(sweep.image));
    yaml += "        command:\n        - \"/bin/sh\"\n        - \"-c\"\n";  // layering: inside the container
    yaml += fmt::format("        - {}\n", scalar(dispatch));
    yaml += "        resources:\n          limits:\n";
    yaml += fmt::format("            nvidia.com/gpu: {}\n", sweep.gpus_per_run);
    yaml += "        volumeMounts:\n        - name: shared\n";
    yaml += fmt::format("          mountPath: {}\n", scalar(root));
    yaml += "      volumes:\n      - name: shared\n        hostPath:\n";
    yaml += fmt::format("          path: {}\n          type: Directory\n", scalar(root));
    return yaml;
}

}  // namespace gm::sweep
