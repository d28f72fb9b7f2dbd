#include "gitmodel/gpu/device.hpp"

#include <fmt/core.h>

#include <cctype>
#include <charconv>

namespace gm::gpu {

bool operator<(ComputeCapability a, ComputeCapability b) {
    return a.major != b.major ? a.major < b.major : a.minor < b.minor;
}
bool operator==(ComputeCapability a, ComputeCapability b) { return a.major == b.major && a.minor == b.minor; }
bool operator!=(ComputeCapability a, ComputeCapability b) { return !(a == b); }
bool operator>=(ComputeCapability a, ComputeCapability b) { return !(a < b); }

std::string to_string(ComputeCapability capability) {
    return fmt::format("{}.{}", capability.major, capability.minor);
}

namespace {

// Parses a whole string of decimal digits (no sign, no space) into a small int.
std::optional<int> parse_small_int(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Splits an architecture entry such as "90a" into its number and suffix.
std::pair<int, std::string> split_architecture(std::string_view entry) {
    std::size_t digits = 0;
    while (digits < entry.size() && std::isdigit(static_cast<unsigned char>(entry[digits]))) ++digits;
    const auto number = parse_small_int(entry.substr(0, digits));
    return {number.value_or(-1), std::string(entry.substr(digits))};
}

}  // namespace

std::optional<ComputeCapability> parse_compute_capability(std::string_view text) {
    const auto dot = text.find('.');
    const auto major = parse_small_int(text.substr(0, dot));
    if (!major) return std::nullopt;
    if (dot == std::string_view::npos) return ComputeCapability{*major, 0};
    const auto minor = parse_small_int(text.substr(dot + 1));
    if (!minor || *minor > 9) return std::nullopt;
    return ComputeCapability{*major, *minor};
}

std::string format_uuid(const std::array<std::uint8_t, 16>& uuid) {
    std::string out = "GPU-";
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += fmt::format("{:02x}", uuid[i]);
    }
    return out;
}

bool is_formatted_uuid(std::string_view text) {
    constexpr std::string_view shape = "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (text.size() != shape.size()) return false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const bool ok = shape[i] == 'x' ? std::isxdigit(static_cast<unsigned char>(text[i])) != 0 : text[i] == shape[i];
        if (!ok) return false;
    }
    return true;
}

std::string format_pci_bus_id(const DeviceInfo& info) {
    return fmt::format("{:08X}:{:02X}:{:02X}.0", info.pci_domain, info.pci_bus, info.pci_device);
}

bool is_mig_slice(const DeviceInfo& info) {
    // " MIG " followed by a profile such as "1g.5gb" or "3g.40gb".
    const auto at = info.name.find(" MIG ");
    if (at == std::string::npos) return false;
    const std::string_view profile = std::string_view(info.name).substr(at + 5);
    return !profile.empty() && std::isdigit(static_cast<unsigned char>(profile.front())) &&
           profile.find('g') != std::string_view::npos;
}

std::vector<std::string> split_architectures(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find_first_of(",;");
        const auto entry = text.substr(0, comma);
        if (!entry.empty()) out.emplace_back(entry);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

bool targets_support(const CompiledTargets& targets, ComputeCapability capability) {
    if (targets.sass.empty() && targets.ptx.empty()) return true;
    for (const auto& entry : targets.sass) {
        const auto [number, suffix] = split_architecture(entry);
        if (number < 0) continue;
        const ComputeCapability built{number / 10, number % 10};
        if (!suffix.empty()) {
            // Architecture-specific SASS ("90a") runs on exactly that capability.
            if (built == capability) return true;
        } else if (built.major == capability.major && built.minor <= capability.minor) {
            return true;
        }
    }
    for (const auto& entry : targets.ptx) {
        const auto [number, suffix] = split_architecture(entry);
        if (number < 0 || !suffix.empty()) continue;  // "a" PTX cannot be JIT-compiled for other GPUs
        if (capability >= ComputeCapability{number / 10, number % 10}) return true;
    }
    return false;
}

std::string describe_targets(const CompiledTargets& targets) {
    std::string out;
    for (const auto& entry : targets.sass) out += (out.empty() ? "sm_" : " sm_") + entry;
    for (const auto& entry : targets.ptx) out += (out.empty() ? "compute_" : " compute_") + entry;
    return out.empty() ? "unknown targets" : out;
}

}  // namespace gm::gpu
