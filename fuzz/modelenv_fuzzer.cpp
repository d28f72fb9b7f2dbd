// libFuzzer entry point for the .modelenv.yaml loader: any input must end in a
// ModelEnv or a gm::Error, quickly and within memory. Another exception escaping,
// a crash, a sanitizer report or a hang is a bug in the loader.
#include "gitmodel/config/modelenv.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Checks the promises every error makes: a position and a message that says what was expected.
void check_error(const gm::config::ConfigError& e) {
    const bool ok = e.line() >= 1 && e.column() >= 1 && e.file() == ".modelenv.yaml" &&
                    (e.detail().find("expected") != std::string::npos ||
                     e.detail().find(" must be ") != std::string::npos) &&
                    std::string_view(e.what()).substr(0, e.file().size() + 1) == ".modelenv.yaml:";
    if (!ok) {
        std::fprintf(stderr, "malformed ConfigError: line %d column %d: %s\n", e.line(), e.column(), e.what());
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const gm::config::ModelEnv env = gm::config::load_modelenv_text(text, ".modelenv.yaml");
        // A loaded file must also describe and serialise without trouble.
        (void)gm::config::describe(env);
        (void)gm::config::to_json(env).dump();
        (void)gm::config::parse_image_ref(env.image.to_string());
    } catch (const gm::config::ConfigError& e) {
        check_error(e);
    } catch (const gm::Error&) {
        // Other gm::Errors are allowed (none is expected from text input).
    }
    return 0;
}
