#pragma once
// `git model ci init`: the team's pipeline for GitLab CI or GitHub Actions, generated from
// .modelenv.yaml: tests without a GPU on every feature/* push, and on model branches
// (feature/model-*) a short training run on one GPU after `git model bench --quick`, both in
// the image the file pins. Rendering is pure; write_pipeline is the only I/O.

#include "gitmodel/config/modelenv.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gm::ci {

// Which CI service the pipeline is for.
enum class Forge { gitlab, github };

// What goes into the pipeline.
struct PipelineOptions {
    std::string image;                               // the pinned image (ImageRef::to_string)
    std::string test_command = "python -m pytest -q";  // the GPU-less tests
    std::string train_command = "python train.py";   // the short training run (GIT_MODEL_SMOKE=1 is set)
    int gpu_minutes = 30;                            // the GPU job's time limit
};

// Where the pipeline lives, relative to the repository root:
// .gitlab-ci.yml or .github/workflows/git-model.yml.
std::filesystem::path pipeline_path(Forge forge);

// The training command a pipeline runs when none is given: .modelenv.yaml's command
// (an exec list is joined with shell quoting), else "python train.py".
std::string default_train_command(const config::ModelEnv& env);

// The pipeline's YAML text.
std::string render_pipeline(Forge forge, const PipelineOptions& options);

// Text as a YAML double-quoted scalar (JSON string syntax, which YAML 1.2 reads the same).
std::string yaml_quote(std::string_view text);

// Writes the pipeline under root (creating .github/workflows), atomically. Throws gm::Error,
// changing nothing, when the file exists and force is false. Returns the file's path.
std::filesystem::path write_pipeline(const std::filesystem::path& root, Forge forge, const PipelineOptions& options,
                                     bool force);

// Rewrites the image lines of the pipeline file under root (atomically), keeping the rest.
// Throws gm::Error, changing nothing, when there is no such file. Returns the file's path.
std::filesystem::path update_pipeline_file(const std::filesystem::path& root, Forge forge, const std::string& image);

// Whether a CI file's text is one `git model ci init` wrote (its header): only those follow the pin.
bool is_generated_pipeline(std::string_view text);

// The images named where a pipeline follows the pin (quotes removed), in file order: a marked
// "image:" line's value, or the "name:" below a marked "image:" that is a mapping (GitLab's form
// with an entrypoint).
std::vector<std::string> pipeline_images(std::string_view text);

// Why a line that follows the pin cannot be rewritten in place ("line 7: its value is an alias
// (*name) ..."), one entry each: `--update` refuses such a file rather than break its YAML.
std::vector<std::string> pipeline_image_problems(std::string_view text);

// The pipeline's text with every value that follows the pin naming image, everything else (the
// user's edits, an anchor before the value) kept byte for byte; lines with a problem are left as they are.
std::string update_pipeline_images(std::string_view text, const std::string& image);

}  // namespace gm::ci
