#include "gitmodel/sweep/slurm.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/file_lock.hpp"
#include "gitmodel/core/host.hpp"
#include "gitmodel/core/random_id.hpp"
#include "gitmodel/core/shell_word.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/env/gpu_pool.hpp"
#include "gitmodel/proc/process.hpp"
#include "gitmodel/sweep/execute.hpp"
#include "gitmodel/sweep/plan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gm::sweep {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The name of the sweep's job arrays in Slurm (squeue shows it; cancel checks a task by it).
std::string slurm_job_name(const Sweep& sweep) { return fmt::format("gm-{}-sweep-{}", sweep.model, sweep.id); }

// A file name for an #SBATCH directive: double-quoted, so that sbatch takes a folder with spaces
// as one value, and '%' doubled, so that a folder named "100%j" is not one of Slurm's patterns.
// (write_batch_scripts refuses a folder with a line break or a '"', which no directive can hold.)
std::string directive_path(const std::string& folder, const std::string& pattern) {
    std::string out = "\"";
    for (char c : folder) {
        if (c == '%') out += "%%";
        else out += c;
    }
    return out + pattern + "\"";
}

std::vector<std::string> job_ids_argument(const Sweep& sweep) { return {join(sweep.slurm.job_ids, ",")}; }

// What the array task ids of one of the sweep's jobs add up to run numbers.
int offset_of(const Sweep& sweep, const std::string& job) {
    const auto found = sweep.slurm.offsets.find(job);
    return found == sweep.slurm.offsets.end() ? 0 : found->second;
}

// Slurm's own default MaxArraySize, when neither the cluster nor git config says.
constexpr int default_max_array_size = 1001;

// "123_4" -> 4 when 123 is one of the sweep's jobs.
std::optional<int> task_number(const Sweep& sweep, const std::string& id) {
    const auto underscore = id.find('_');
    if (underscore == std::string::npos) return std::nullopt;
    if (std::find(sweep.slurm.job_ids.begin(), sweep.slurm.job_ids.end(), id.substr(0, underscore)) ==
        sweep.slurm.job_ids.end())
        return std::nullopt;
    const std::string number = id.substr(underscore + 1);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::atoi(number.c_str()) + offset_of(sweep, id.substr(0, underscore));
}

std::atomic<int> task_signal{0};
extern "C" void remember_task_signal(int signal) { task_signal = signal; }

}  // namespace

std::string slurm_value_problem(std::string_view value) {
    if (value.empty()) return "is empty";
    if (value.size() > 100) return "is longer than 100 characters";
    for (char c : value) {
        const bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '-' || c == '.' || c == ':' || c == ',';
        if (!fine) return fmt::format("contains '{}'; only letters, digits and _ - . : , are allowed", c);
    }
    return {};
}

std::string array_ranges(const std::vector<int>& numbers) {
    std::vector<int> sorted = numbers;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
        parts.push_back(i == j ? std::to_string(sorted[i]) : fmt::format("{}-{}", sorted[i], sorted[j]));
        i = j + 1;
    }
    return join(parts, ",");
}

std::vector<ArrayPart> array_parts(const std::vector<int>& numbers, int max_array_size) {
    std::vector<int> sorted = numbers;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    const int widest = std::max(1, (max_array_size > 0 ? max_array_size : default_max_array_size) - 1);
    std::vector<ArrayPart> parts;
    for (int number : sorted) {
        // Task ids 1..widest: a part's numbers, less its offset, must stay below MaxArraySize.
        if (parts.empty() || number - parts.back().offset > widest) parts.push_back(ArrayPart{{}, number - 1});
        parts.back().numbers.push_back(number);
    }
    return parts;
}

int slurm_max_array_size(const git::Config& config) {
    if (proc::find_program("scontrol")) {
        proc::RunOptions options;
        options.timeout = 10s;
        const auto shown = proc::run({"scontrol", "show", "config"}, options);
        if (shown.ok()) {
            std::istringstream lines(shown.out);
            std::string line;
            while (std::getline(lines, line)) {
                if (line.rfind("MaxArraySize", 0) != 0) continue;
                const auto equals = line.find('=');
                const int value = equals == std::string::npos ? 0 : std::atoi(line.c_str() + equals + 1);
                if (value > 1) return value;
            }
        }
    }
    if (const auto configured = config.get_string("model.slurm.maxArraySize")) {
        const int value = std::atoi(configured->c_str());
        if (value < 2 || configured->find_first_not_of("0123456789") != std::string::npos)
            throw UsageError(fmt::format("model.slurm.maxArraySize = {}: expected a number of at least 2",
                                         quote_for_message(*configured)));
        return value;
    }
    return default_max_array_size;
}

std::string batch_script(const Sweep& sweep, const std::vector<int>& numbers, const fs::path& program, int offset) {
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    std::string script = "#!/bin/sh\n";
    script += fmt::format("# Sweep {} of model {}: runs {} of {}.\n", sweep.id, sweep.model, array_ranges(numbers),
                          sweep.runs.size());
    std::vector<int> task_ids;
    for (int number : numbers) task_ids.push_back(number - offset);
    if (offset != 0)
        script += fmt::format("# Array task k runs run k+{} (the cluster's MaxArraySize caps task ids).\n", offset);
    script += "# Written by `git model sweep`; submit with `sbatch <this file>` (a cancelled run stays cancelled:\n";
    script += "# `git model sweep resume` queues it again). Each task runs its run's\n";
    script += "# command from sweep.json in the run's worktree (on shared storage) and records its state.\n";
    script += fmt::format("#SBATCH --job-name={}\n", slurm_job_name(sweep));
    if (!sweep.slurm.job_comment.empty()) script += fmt::format("#SBATCH --comment={}\n", sweep.slurm.job_comment);
    std::string array = array_ranges(task_ids);
    if (sweep.max_parallel > 0) array += fmt::format("%{}", sweep.max_parallel);
    script += fmt::format("#SBATCH --array={}\n", array);
    if (sweep.gpus_per_run > 0) script += fmt::format("#SBATCH --gres=gpu:{}\n", sweep.gpus_per_run);
    script += fmt::format("#SBATCH --output={}\n", directive_path(dir.string(), "/slurm/%A_%a.out"));
    if (sweep.slurm.partition) script += fmt::format("#SBATCH --partition={}\n", *sweep.slurm.partition);
    if (sweep.slurm.time_limit) script += fmt::format("#SBATCH --time={}\n", *sweep.slurm.time_limit);
    if (sweep.slurm.account) script += fmt::format("#SBATCH --account={}\n", *sweep.slurm.account);
    const std::string task = offset == 0 ? "\"$SLURM_ARRAY_TASK_ID\"" : fmt::format("\"$((SLURM_ARRAY_TASK_ID + {}))\"", offset);
    script += fmt::format("exec {} sweep task {} {}\n", shell_word(program.string()), shell_word(dir.string()), task);
    return script;
}

std::string report_script(const Sweep& sweep, const fs::path& program) {
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    std::string script = "#!/bin/sh\n";
    script += fmt::format("# The report of sweep {} of model {}, after its job arrays end (afterany).\n", sweep.id, sweep.model);
    script += fmt::format("#SBATCH --job-name=gm-{}-sweep-{}-report\n", sweep.model, sweep.id);
    script += fmt::format("#SBATCH --output={}\n", directive_path(dir.string(), "/slurm/report.out"));
    if (sweep.slurm.partition) script += fmt::format("#SBATCH --partition={}\n", *sweep.slurm.partition);
    if (sweep.slurm.account) script += fmt::format("#SBATCH --account={}\n", *sweep.slurm.account);
    script += fmt::format("cd {} && exec {} sweep report {}\n", shell_word(sweep.model_worktree.string()),
                          shell_word(program.string()), shell_word(sweep.id));
    return script;
}

void check_slurm_prerequisites() {
    for (const char* program : {"sbatch", "squeue", "scancel"}) {
        if (!proc::find_program(program))
            throw UnavailableError(fmt::format("--backend slurm needs {}, which is not installed here", program),
                                   "run the sweep from a Slurm login node, or use --backend local");
    }
}

BatchScripts write_batch_scripts(const Sweep& sweep, const std::vector<int>& numbers, const std::optional<fs::path>& copy_to) {
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    // The #SBATCH --output line names the folder: a line break there would end the directive and
    // make the rest of the folder's name a line of the script, run by the task's shell.
    if (const auto bad = dir.string().find_first_of("\n\r\""); bad != std::string::npos)
        throw Error(fmt::format("the sweep's folder {} holds {}, which a Slurm batch script cannot name",
                                quote_for_message(dir.string()), dir.string()[bad] == '"' ? "a '\"'" : "a line break"),
                    "move the repository to a folder whose path has no line break and no '\"'");
    // The batch scripts run as their submitter: their folder is never group-writable.
    if (::mkdir((dir / "slurm").c_str(), 0755) != 0 && errno != EEXIST)
        throw Error(fmt::format("cannot create {}: {}", (dir / "slurm").string(), std::strerror(errno)));
    make_sweep_folder(sweep, sweep.logs_dir);
    BatchScripts out;
    const fs::path program = proc::current_executable();
    std::string last;
    for (const auto& part : array_parts(numbers, sweep.slurm.max_array_size)) {
        const fs::path file = dir / fmt::format("slurm-{}.sbatch", sweep.slurm.job_ids.size() + out.parts.size() + 1);
        last = batch_script(sweep, part.numbers, program, part.offset);
        write_file_atomically(file, last, 0755);
        out.parts.push_back({file, part});
    }
    // What a person submits: the one script, or for several arrays a script that submits each
    // (after the one before it when --max-parallel throttles, so the sweep never runs more).
    if (sweep.slurm.report_job) {
        out.report = dir / "report.sbatch";
        write_file_atomically(*out.report, report_script(sweep, program), 0755);
    }
    std::string entry;
    if (out.parts.size() == 1 && !out.report) {
        entry = last;
        out.entry_is_wrapper = false;
    } else {
        entry = "#!/bin/sh\n";
        entry += fmt::format("# Sweep {} of model {}: runs {} in {} job arrays (MaxArraySize {}). Submit with `sh <this "
                             "file>`.\nset -e\n",
                             sweep.id, sweep.model, array_ranges(numbers), out.parts.size(),
                             sweep.slurm.max_array_size > 0 ? sweep.slurm.max_array_size : default_max_array_size);
        bool first = true;
        for (const auto& [file, part] : out.parts) {
            const std::string after = !first && sweep.max_parallel > 0 ? " --dependency=afterany:\"$job\"" : "";
            entry += fmt::format("job=$(sbatch --parsable{} {})\njobs=\"${{jobs:+$jobs:}}$job\"\n"
                                 "echo \"submitted job array $job: runs {}\"\n",
                                 after, shell_word(file.string()), array_ranges(part.numbers));
            first = false;
        }
        if (out.report)
            entry += fmt::format("job=$(sbatch --parsable --dependency=afterany:\"$jobs\" {})\n"
                                 "echo \"submitted the report job $job\"\n",
                                 shell_word(out.report->string()));
        out.entry_is_wrapper = true;
    }
    out.entry = dir / "sweep.sbatch";
    write_file_atomically(out.entry, entry, 0755);
    if (copy_to) write_file_atomically(*copy_to, entry, 0755);
    return out;
}

std::string new_job_comment() { return "gm-sweep-" + random_hex(12); }

std::string submit(Sweep& sweep, const std::vector<int>& numbers) {
    const fs::path dir = sweep_dir(sweep.common_dir, sweep.id);
    if (sweep.slurm.job_comment.empty()) {  // a sweep from before job comments: written down before any sbatch
        sweep.slurm.job_comment = new_job_comment();
        save(sweep);
    }
    const BatchScripts scripts = write_batch_scripts(sweep, numbers);
    std::vector<std::string> submitted;
    for (const auto& [file, part] : scripts.parts) {
        proc::RunOptions options;
        options.cwd = dir;
        options.timeout = 60s;
        std::vector<std::string> argv{"sbatch", "--parsable"};
        // Several arrays under --max-parallel run one after another, so the throttle holds for the sweep.
        if (!submitted.empty() && sweep.max_parallel > 0) argv.push_back("--dependency=afterany:" + submitted.back());
        argv.push_back(file.string());
        const auto result = proc::run(argv, options);
        if (!result.ok()) {
            std::string why = result.err;
            while (!why.empty() && why.back() == '\n') why.pop_back();
            throw Error(fmt::format("sbatch refused the sweep ({}): {}", result.describe(), why),
                        fmt::format("the script is {}; check the partition, account and time limit", file.string()));
        }
        std::string job = result.out.substr(0, result.out.find_first_of(";\n"));
        if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
            throw Error(fmt::format("sbatch printed no job id: {}", quote_for_message(result.out)));
        sweep.slurm.job_ids.push_back(job);
        if (part.offset != 0) sweep.slurm.offsets[job] = part.offset;
        save(sweep);
        submitted.push_back(job);
    }
    if (scripts.report) {
        proc::RunOptions options;
        options.cwd = dir;
        options.timeout = 60s;
        const auto result = proc::run({"sbatch", "--parsable", "--dependency=afterany:" + join(submitted, ":"),
                                       scripts.report->string()},
                                      options);
        std::string job = result.ok() ? result.out.substr(0, result.out.find_first_of(";\n")) : "";
        if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
            throw Error(fmt::format("sbatch refused the report job ({}): {}", result.describe(), result.err),
                        fmt::format("the script is {}", scripts.report->string()));
        sweep.slurm.report_job_ids.push_back(job);
        save(sweep);
    }
    return join(submitted, ", ");
}

std::map<int, SlurmTask> query_tasks(const Sweep& sweep, bool* answered) {
    std::map<int, SlurmTask> tasks;
    if (answered) *answered = false;
    if (sweep.slurm.job_ids.empty()) return tasks;
    proc::RunOptions options;
    options.timeout = 30s;
    const auto accounted = proc::run({"sacct", "--noheader", "--parsable2", "--allocations", "--format=JobID,State",
                                      "--jobs", job_ids_argument(sweep)[0]},
                                     options);
    if (accounted.ok()) {  // only where accounting is on; squeue below is fresher for what it lists
        std::istringstream lines(accounted.out);
        std::string line;
        while (std::getline(lines, line)) {
            const auto bar = line.find('|');
            if (bar == std::string::npos) continue;
            if (auto number = task_number(sweep, line.substr(0, bar))) {
                std::string state = line.substr(bar + 1);
                state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
                tasks[*number] = {state, ""};
            }
        }
    }
    const auto queued = proc::run({"squeue", "--noheader", "--array", "--jobs", job_ids_argument(sweep)[0],
                                   "--format=%i|%T|%r"},
                                  options);
    // squeue refuses a single job id it no longer knows ("Invalid job id specified"): that job is
    // gone. With several ids, an error says nothing of the others.
    if (answered)
        *answered = queued.ok() ||
                    (sweep.slurm.job_ids.size() == 1 && queued.err.find("Invalid job id") != std::string::npos);
    if (queued.ok()) {
        std::istringstream lines(queued.out);
        std::string line;
        while (std::getline(lines, line)) {
            std::vector<std::string> fields;
            std::stringstream parts(line);
            std::string field;
            while (std::getline(parts, field, '|')) fields.push_back(field);
            if (fields.size() < 3) continue;
            // A pending array not yet split shows as 123_[2-4%2]: every number in it is pending.
            const std::string& id = fields[0];
            const auto open = id.find("_[");
            if (open != std::string::npos) {
                const int offset = offset_of(sweep, id.substr(0, open));
                std::string inside = id.substr(open + 2, id.find_first_of("%]", open) - open - 2);
                std::stringstream ranges(inside);
                std::string range;
                while (std::getline(ranges, range, ',')) {
                    const auto dash = range.find('-');
                    const int first = std::atoi(range.substr(0, dash).c_str());
                    const int last = dash == std::string::npos ? first : std::atoi(range.substr(dash + 1).c_str());
                    for (int n = first; n <= last && n - first < 100000; ++n) tasks[n + offset] = {fields[1], fields[2]};
                }
            } else if (auto number = task_number(sweep, id)) {
                tasks[*number] = {fields[1], fields[2]};
            }
        }
    }
    return tasks;
}

namespace {

// squeue's states of a task or job that still holds (or will hold) a node.
bool slurm_active(const std::string& state) {
    return state == "RUNNING" || state == "PENDING" || state == "COMPLETING" || state == "CONFIGURING" ||
           state == "SUSPENDED";
}

// "123_4": a Slurm array task id as a task records it (checked: it came from a file and goes to
// squeue and scancel). Numbers past 32 bits or with a leading zero are refused: Slurm would read
// 4294967297 as 1, another job.
bool is_task_id(const std::string& id) {
    const auto number = [](std::string_view part) {
        return !part.empty() && part.size() <= 10 && part[0] != '0' &&
               std::all_of(part.begin(), part.end(), is_ascii_digit) && std::stoull(std::string(part)) < (1ULL << 32);
    };
    const auto bar = id.find('_');
    return bar != std::string::npos && number(std::string_view(id).substr(0, bar)) && number(std::string_view(id).substr(bar + 1));
}

// What squeue says of one job or task: its state, name and comment; nullopt when it no longer lists
// it; throws when squeue cannot say (the controller down).
struct ListedTask {
    std::string state, name, comment;
};
std::optional<ListedTask> list_task(const std::string& id, const proc::RunOptions& options) {
    const auto listed = proc::run({"squeue", "--noheader", "--jobs", id, "--format=%T|%j|%k"}, options);
    if (!listed.ok() && listed.err.find("Invalid job id") != std::string::npos) return std::nullopt;
    if (!listed.ok()) throw Error(fmt::format("squeue failed ({}): {}", listed.describe(), last_nonempty_line(listed.err)));
    const std::string line = last_nonempty_line(listed.out);
    if (line.empty()) return std::nullopt;
    ListedTask task;
    std::istringstream fields(line);
    std::getline(fields, task.state, '|');
    std::getline(fields, task.name, '|');
    std::getline(fields, task.comment);
    return task;
}

// Whether a task squeue lists is of this sweep: by the sweep's random job comment, or by its job
// name in sweeps from before comments (a name repeats across clones; a comment does not).
bool of_this_sweep(const Sweep& sweep, const ListedTask& task) {
    return sweep.slurm.job_comment.empty() ? task.name == slurm_job_name(sweep) : task.comment == sweep.slurm.job_comment;
}

// The caller's own jobs that bear the sweep's comment and that sweep.json does not name: one a
// `sweep start` killed as sbatch answered never wrote down, or an exported script's, submitted by
// hand. A note says when squeue cannot list them, and names the jobs of a sweep from before
// comments that bear its name (a job name repeats across clones: they are named, not cancelled).
std::vector<std::string> unrecorded_jobs(const Sweep& sweep, std::vector<std::string>& notes,
                                         const proc::RunOptions& options) {
    // --user, not --me: Slurm before 20.11 has no --me.
    const auto listed = proc::run({"squeue", "--user", user_name(), "--noheader", "--format=%i|%j|%k"}, options);
    if (!listed.ok()) {
        notes.push_back(fmt::format("could not list your Slurm jobs (squeue: {}); a job of sweep {} it did not record "
                                    "(an exported script submitted by hand) may be left: see `squeue --me`",
                                    printable(last_nonempty_line(listed.err.empty() ? listed.describe() : listed.err)),
                                    sweep.id));
        return {};
    }
    std::vector<std::string> jobs, by_name;
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string id, name, comment;
        std::getline(fields, id, '|');
        std::getline(fields, name, '|');
        std::getline(fields, comment);
        const std::string job = id.substr(0, id.find('_'));
        const auto known = [&](const std::vector<std::string>& ids) { return std::find(ids.begin(), ids.end(), job) != ids.end(); };
        if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos || known(sweep.slurm.job_ids) ||
            known(sweep.slurm.report_job_ids) || known(jobs) || known(by_name))
            continue;
        if (!sweep.slurm.job_comment.empty() && comment == sweep.slurm.job_comment) jobs.push_back(job);
        else if (sweep.slurm.job_comment.empty() && name == slurm_job_name(sweep)) by_name.push_back(job);
    }
    if (by_name.empty()) return jobs;
    notes.push_back(fmt::format("Slurm job{} {} bear{} the name of sweep {}, which was made before job comments, so it "
                                "cannot tell them from another clone's: not cancelled; `scancel` them if they are this "
                                "sweep's",
                                by_name.size() == 1 ? "" : "s", join(by_name, ", "), by_name.size() == 1 ? "s" : "",
                                sweep.id));
    return jobs;  // empty: a sweep without a comment finds none by it
}

// Whether squeue still lists any of these jobs or tasks as holding a node (false when it cannot say).
bool any_task_active(const std::vector<std::string>& tasks, const proc::RunOptions& options) {
    if (tasks.empty()) return false;
    const auto listed = proc::run({"squeue", "--noheader", "--jobs", join(tasks, ","), "--format=%T"}, options);
    std::istringstream lines(listed.out);
    std::string state;
    while (lines >> state)
        if (slurm_active(state)) return true;
    return false;
}

// The Slurm task each unfinished run recorded: run -> "<job>_<task>".
std::map<int, std::string> recorded_tasks(const Sweep& sweep) {
    std::map<int, std::string> tasks;
    for (const auto& run : sweep.runs) {
        const auto status = load_run(sweep, run.number);
        if ((status.state == RunState::running || status.state == RunState::queued) && status.slurm_task &&
            is_task_id(*status.slurm_task))
            tasks[run.number] = *status.slurm_task;
    }
    return tasks;
}

// Scancels the recorded tasks of runs that none of `jobs` (already cancelled) holds, when squeue
// shows them as this sweep's; adds what it cancelled to `stopping`, and a run it could not stop,
// with why, to still_running and notes.
void cancel_recorded_tasks(const Sweep& sweep, const std::vector<std::string>& jobs, std::vector<std::string>& stopping,
                           std::set<int>& still_running, std::vector<std::string>& notes, const proc::RunOptions& options) {
    for (const auto& [number, task] : recorded_tasks(sweep)) {
        if (std::find(jobs.begin(), jobs.end(), task.substr(0, task.find('_'))) != jobs.end()) continue;
        std::string why;
        try {
            const auto listed = list_task(task, options);
            if (!listed) continue;  // ended
            if (!of_this_sweep(sweep, *listed)) {
                why = fmt::format("its job ({}) is not this sweep's; if it is this run's, stop it with Slurm",
                                  quote_for_message(listed->name));
            } else {
                const auto result = proc::run({"scancel", task}, options);
                if (result.ok() || result.err.find("Invalid job id") != std::string::npos ||
                    result.err.find("already completing or completed") != std::string::npos) {
                    stopping.push_back(task);
                    continue;
                }
                why = "scancel: " + last_nonempty_line(result.err.empty() ? result.describe() : result.err);
            }
        } catch (const Error& e) {
            why = e.what();
        }
        still_running.insert(number);
        notes.push_back(fmt::format("run {} (Slurm task {}) was not cancelled: {}", number, task, printable(why)));
    }
}

// After the wait: a run whose recorded task Slurm still lists as active (still stopping, or started
// meanwhile) is not shown as cancelled, since it may go on.
void keep_live_runs(const Sweep& sweep, std::set<int>& still_running, std::vector<std::string>& notes,
                    const proc::RunOptions& options) {
    for (const auto& [number, task] : recorded_tasks(sweep)) {
        if (still_running.count(number)) continue;
        std::string state;
        try {
            const auto listed = list_task(task, options);
            if (!listed || !slurm_active(listed->state)) continue;
            state = listed->state;
        } catch (const Error& e) {
            state = fmt::format("unknown: {}", e.what());
        }
        still_running.insert(number);
        notes.push_back(fmt::format("run {} is still {} in Slurm task {} after a minute; `git model sweep status {}` "
                                    "shows when it ends",
                                    number, printable(state), task, sweep.id));
    }
}

}  // namespace

std::set<int> cancel_slurm(const Sweep& sweep, std::vector<std::string>& notes) {
    proc::RunOptions options;
    options.timeout = 60s;
    std::vector<std::string> jobs = sweep.slurm.job_ids;
    jobs.insert(jobs.end(), sweep.slurm.report_job_ids.begin(), sweep.slurm.report_job_ids.end());
    const std::vector<std::string> unrecorded = unrecorded_jobs(sweep, notes, options);
    jobs.insert(jobs.end(), unrecorded.begin(), unrecorded.end());
    if (!jobs.empty()) {
        std::vector<std::string> argv{"scancel"};
        argv.insert(argv.end(), jobs.begin(), jobs.end());
        const auto result = proc::run(argv, options);
        if (!result.ok())
            throw Error(fmt::format("scancel failed ({}): {}", result.describe(), result.err));
    }
    std::set<int> still_running;
    std::vector<std::string> stopping = unrecorded;
    cancel_recorded_tasks(sweep, jobs, stopping, still_running, notes, options);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
        bool active = any_task_active(stopping, options);
        if (!sweep.slurm.job_ids.empty())
            for (const auto& [number, task] : query_tasks(sweep)) active = active || slurm_active(task.state);
        if (!active) break;
        std::this_thread::sleep_for(250ms);
    }
    keep_live_runs(sweep, still_running, notes, options);
    return still_running;
}

namespace {

// The GPUs Slurm gave the task, from CUDA_VISIBLE_DEVICES (indices or GPU-<uuid>s).
std::vector<env::GpuSlot> task_gpus(const std::string& visible) {
    std::vector<env::GpuSlot> gpus;
    std::stringstream items(visible);
    std::string item;
    while (std::getline(items, item, ',')) {
        if (item.empty()) continue;
        env::GpuSlot slot;
        if (item.rfind("GPU-", 0) == 0) slot.uuid = item;
        else slot.index = std::atoi(item.c_str());
        gpus.push_back(slot);
    }
    return gpus;
}

// Waits for the run's process, passing a signal Slurm sent the task on to it; returns its wait status.
int wait_forwarding(const proc::Child& child) {
    int raw = 0;
    bool forwarded = false;
    while (true) {
        const pid_t got = ::waitpid(static_cast<pid_t>(child.pid), &raw, 0);
        if (got == static_cast<pid_t>(child.pid)) break;
        if (got < 0 && errno == EINTR && task_signal.load() && !forwarded) {
            proc::signal_child(child, SIGTERM);  // podman passes it on to the container
            forwarded = true;
        } else if (got < 0 && errno != EINTR) {
            break;
        }
    }
    return raw;
}

// One attempt of a task's run, begun in `status`: started, waited for, and its end recorded
// (state done, failed or cancelled; not yet saved).
void run_task_attempt(const Sweep& sweep, const RunSpec& run, RunStatus& status, const git::Repository& repo) {
    proc::Child child;
    try {
        const auto engine = sweep_engine(sweep, repo.config());
        const auto gpus = task_gpus(status.gpus);
        const Launch launch =
            prepare_launch(sweep, run, gpus, env::nvidia_driver_present(), engine, repo.main_worktree_or_common_dir());
        log_launch(sweep, run, status.attempt, gpus);
        status.container = launch.container;
        save_run(sweep, run.number, status);
        child = proc::spawn(launch.argv, launch.options);
    } catch (const Error& e) {
        status.state = RunState::failed;
        end_attempt(status, std::nullopt, 0);
        status.note = fmt::format("could not start: {}", e.what());
        return;
    }
    const int raw = wait_forwarding(child);
    // Slurm signals every process of the task at once (scancel, the time limit): the command may
    // die of it before this process's own signal arrives. A moment's wait tells "stopped by Slurm"
    // (cancelled) from a command that died of a signal on its own (failed).
    if (WIFSIGNALED(raw) && (WTERMSIG(raw) == SIGTERM || WTERMSIG(raw) == SIGKILL))
        for (int i = 0; i < 50 && !task_signal.load(); ++i) std::this_thread::sleep_for(10ms);
    if (WIFSIGNALED(raw)) end_attempt(status, std::nullopt, WTERMSIG(raw));
    else end_attempt(status, WEXITSTATUS(raw), 0);
    const bool ok = status.signal == 0 && status.exit_code == 0;
    if (task_signal.load()) {
        status.state = RunState::cancelled;
        status.note = "stopped by Slurm (scancel, or the time limit)";
    } else {
        status.state = ok ? RunState::done : RunState::failed;
        if (!ok)
            status.note = status.signal ? fmt::format("the command was killed by signal {}", status.signal)
                                        : fmt::format("the command exited with status {}", *status.exit_code);
    }
}

// The live Slurm task other than `mine` that the run's record says runs it, if squeue lists it so.
std::optional<std::string> running_elsewhere(const RunStatus& status, const std::string& mine) {
    if (status.state != RunState::running || !status.slurm_task || *status.slurm_task == mine ||
        !is_task_id(*status.slurm_task))
        return std::nullopt;
    proc::RunOptions options;
    options.timeout = 30s;
    try {
        const auto listed = list_task(*status.slurm_task, options);
        if (listed && slurm_active(listed->state)) return *status.slurm_task;
    } catch (const Error&) {
        // squeue cannot say: the record alone does not stop a task from running its run
    }
    return std::nullopt;
}

}  // namespace

int run_slurm_task(const fs::path& sweep_folder, int number) {
    const Sweep sweep = load_from(sweep_folder);
    if (number < 1 || static_cast<std::size_t>(number) > sweep.runs.size())
        throw Error(fmt::format("sweep {} has no run {}", sweep.id, number));
    const RunSpec& run = sweep.runs[static_cast<std::size_t>(number - 1)];

    struct sigaction action {};
    action.sa_handler = remember_task_signal;
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) ::sigaction(signal, &action, nullptr);

    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    const std::string mine = job ? fmt::format("{}_{}", job, task ? std::atoi(task) : number) : "";
    RunStatus status;
    {
        // The run is claimed under the sweep's queue lock: read, checked and marked as this task's
        // at once, so that two tasks starting together (a script submitted twice) never both run it.
        FileLock claim(queue_lock_path(sweep));
        status = load_run(sweep, number);
        // `sweep cancel` stopped this run: a task that starts later (of a job cancel could not
        // reach) leaves it cancelled; `sweep resume` requeues it.
        if (status.state == RunState::cancelled) {
            log_line(sweep, number, fmt::format("run {} was cancelled: Slurm task not run; `git model sweep resume {}` "
                                                "reruns it",
                                                number, sweep.id));
            return 0;
        }
        // A done run is never run again by a task (of a script submitted twice, say): it would
        // overwrite the run's results; `sweep resume` never queues a done run either.
        if (status.state == RunState::done) {
            log_line(sweep, number, fmt::format("run {} is done: Slurm task {} does not run it again", number,
                                                mine.empty() ? "(no Slurm id)" : mine));
            return 0;
        }
        // The run goes on in another live task: two at once in one worktree would overwrite each
        // other's files. A record whose task Slurm no longer lists (killed with its node) does not hold it.
        if (const auto other = running_elsewhere(status, mine)) {
            log_line(sweep, number, fmt::format("run {} is running in Slurm task {}: task {} does not run it again",
                                                number, *other, mine.empty() ? "(no Slurm id)" : mine));
            return 0;
        }
        if (!mine.empty()) {
            status.state = RunState::running;
            status.slurm_task = mine;
            save_run(sweep, number, status);
        }
    }
    git::Library library;
    const auto repo = git::Repository::open(sweep.common_dir);
    // Each attempt, the first and every retry, looks at the sweep's failures first (the runs'
    // records on the shared filesystem): once --max-failures runs failed, none starts.
    while (true) {
        if (failure_budget_spent(sweep, count_failed(sweep))) {
            status.state = RunState::queued;
            status.held = true;
            status.note = held_note(sweep);
            save_run(sweep, number, status);
            log_line(sweep, number, fmt::format("run {} {}", number, status.note));
            return 0;
        }
        begin_attempt(status);
        status.gpus = visible ? visible : "";
        if (job) status.slurm_task = mine;
        run_task_attempt(sweep, run, status, repo);
        const bool retry = record_attempt(sweep, run, status, !task_signal.load());
        if (!retry) return status.state == RunState::done ? 0 : 1;
    }
}

}  // namespace gm::sweep
