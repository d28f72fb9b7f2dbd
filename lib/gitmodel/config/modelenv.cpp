#include "gitmodel/config/modelenv.hpp"

#include "gitmodel/config/values.hpp"
#include "gitmodel/config/yaml_tree.hpp"
#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

namespace gm::config {

namespace {

using detail::NodeKind;
using detail::Position;
using detail::YamlDocument;
using detail::YamlNode;

// What a scalar means under the YAML 1.2 core schema (quoted scalars are always strings).
enum class ValueType { null, boolean, integer, floating, string, sequence, mapping };

bool all_of(std::string_view s, bool (*pred)(char)) {
    if (s.empty()) return false;
    for (char c : s)
        if (!pred(c)) return false;
    return true;
}
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view strip_sign(std::string_view s) {
    return (!s.empty() && (s[0] == '+' || s[0] == '-')) ? s.substr(1) : s;
}

bool core_int(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && s[1] == 'o') return all_of(s.substr(2), is_octal);
    if (s.size() > 2 && s[0] == '0' && s[1] == 'x') return all_of(s.substr(2), is_hex);
    return all_of(strip_sign(s), is_ascii_digit);
}

bool core_float(std::string_view s) {
    const std::string_view u = strip_sign(s);
    if (u == ".inf" || u == ".Inf" || u == ".INF") return true;
    if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
    std::size_t i = 0, digits = 0;
    while (i < u.size() && is_ascii_digit(u[i])) ++i, ++digits;
    if (i < u.size() && u[i] == '.') {
        ++i;
        while (i < u.size() && is_ascii_digit(u[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < u.size() && (u[i] == 'e' || u[i] == 'E')) {
        ++i;
        if (i < u.size() && (u[i] == '+' || u[i] == '-')) ++i;
        const std::size_t exponent_start = i;
        while (i < u.size() && is_ascii_digit(u[i])) ++i;
        if (i == exponent_start) return false;
    }
    return i == u.size();
}

ValueType type_of(const YamlNode& n) {
    switch (n.kind) {
        case NodeKind::null: return ValueType::null;
        case NodeKind::sequence: return ValueType::sequence;
        case NodeKind::mapping: return ValueType::mapping;
        default: break;
    }
    if (n.tag != "?") return ValueType::string;  // quoted, or forced with '!'
    const std::string& v = n.value;
    if (v == "true" || v == "True" || v == "TRUE" || v == "false" || v == "False" || v == "FALSE")
        return ValueType::boolean;
    if (core_int(v)) return ValueType::integer;
    if (core_float(v)) return ValueType::floating;
    return ValueType::string;
}

// yaml-cpp expands "!!int" to "tag:yaml.org,2002:int"; show it as the user wrote it.
std::string display_tag(const std::string& tag) {
    const std::string prefix = "tag:yaml.org,2002:";
    return tag.compare(0, prefix.size(), prefix) == 0 ? "!!" + tag.substr(prefix.size()) : tag;
}

bool is_number(ValueType t) { return t == ValueType::integer || t == ValueType::floating; }

// "the string 'x'", "the number 5", "a list": the "(got …)" part of messages.
std::string describe_value(const YamlNode& n) {
    const auto quoted = [&] {
        std::string q = quote_for_message(n.value);
        if (q.size() > 60) q = q.substr(0, 56) + "...'";
        return q;
    };
    switch (type_of(n)) {
        case ValueType::null: return "nothing (null)";
        case ValueType::boolean: return "the boolean " + n.value;
        case ValueType::integer:
        case ValueType::floating: return "the number " + quoted().substr(1, quoted().size() - 2);
        case ValueType::string: return "the string " + quoted();
        case ValueType::sequence: return "a list";
        case ValueType::mapping: return "a mapping";
    }
    return "a value";
}

// A decimal integer such as "8888" or "-1" (no octal/hex forms), or nullopt.
std::optional<long long> parse_decimal(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || s.size() > 15 || !all_of(s, is_ascii_digit)) return std::nullopt;
    long long v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return negative ? -v : v;
}

// A finite decimal number such as "1.5", "2" or "1e3", or nullopt.
std::optional<double> parse_real(std::string_view s) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    if (s.empty() || !core_float(s) || s.find("inf") != std::string_view::npos ||
        s.find("Inf") != std::string_view::npos || s.find("INF") != std::string_view::npos ||
        s.find('n') != std::string_view::npos || s.find('N') != std::string_view::npos)
        return std::nullopt;
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

bool valid_port_name(std::string_view s) {
    if (s.empty() || s.size() > 63 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || is_ascii_digit(c) || c == '_' || c == '-')) return false;
    return true;
}

bool valid_env_name(std::string_view s) {
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (s.empty() || !letter(s[0])) return false;
    for (char c : s)
        if (!letter(c) && !is_ascii_digit(c)) return false;
    return true;
}

constexpr int max_gpus = 1024;

// The top-level keys and what each expects, in the order the man page documents them.
struct KeySpec {
    const char* name;
    const char* expected;
};
const KeySpec top_level_keys[] = {
    {"image", "an image reference such as 'registry.example.com/team/model:1.0' or 'name@sha256:<digest>'"},
    {"gpus", "a count, a list of GPU indices, or 'all'"},
    {"memory", "a size such as 16g, 512m, 1024k or a number of bytes, greater than 0"},
    {"cpus", "a number of CPUs greater than 0, such as 4 or 1.5"},
    {"shm_size", "a size such as 16g, 512m, 1024k or a number of bytes, greater than 0"},
    {"ports", "a mapping of port names to container ports, such as 'jupyter: 8888'"},
    {"mounts", "a list of mappings with 'source', 'target' and optional 'readonly'"},
    {"persist", "a mapping with optional 'checkpoints' and 'logs' folders"},
    {"env", "a mapping of variable names to strings or numbers"},
    {"workdir", "an absolute path such as /workspace"},
    {"user", "'host', 'image' or '<uid>:<gid>' such as '1000:1000'"},
    {"command", "a string or a list of strings"},
    {"engine", "'podman' or 'docker'"},
    {"bench", "a mapping of thresholds for 'git model bench'"},
};

const char* expected_for(std::string_view key) {
    for (const auto& spec : top_level_keys)
        if (key == spec.name) return spec.expected;
    return "a value";
}

const char* const size_expected = "a size such as 16g, 512m, 1024k or a number of bytes, greater than 0";
const char* const fraction_expected = "a fraction greater than 0 and at most 1, such as 0.8";
const char* const capability_expected = "a compute capability such as '8.0' or 9.0";

// Walks the parsed tree along the schema, turning each problem into a ConfigError.
class Loader {
public:
    Loader(const YamlDocument& doc, const std::string& file) : doc_(doc), file_(file) {}

    ModelEnv load() {
        ModelEnv env;
        const std::size_t root = doc_.root();
        const YamlNode& top = get(root);
        if (top.kind != NodeKind::mapping)
            fail(top.kind == NodeKind::null && top.implicit ? doc_.start() : position(root),
                 fmt::format("the top level must be a mapping of settings such as 'image: name:tag' (got {})",
                             describe_value(top)));
        bool have_image = false;
        std::vector<std::string> known;
        for (const auto& spec : top_level_keys) known.emplace_back(spec.name);

        for (const Entry& e : entries(root, "the top level", "a mapping of settings")) {
            const std::string& k = e.key;
            if (std::find(known.begin(), known.end(), k) == known.end()) unknown_key(e, known, "at the top level");
            require_value(e, "'" + k + "'", expected_for(k));
            if (k == "image") {
                env.image = read_image(e.value);
                have_image = true;
            } else if (k == "gpus") {
                env.gpus = read_gpus(e.value);
            } else if (k == "memory") {
                env.memory_bytes = read_size(e.value, "memory");
            } else if (k == "cpus") {
                env.cpus = read_cpus(e.value);
            } else if (k == "shm_size") {
                env.shm_bytes = read_size(e.value, "shm_size");
            } else if (k == "ports") {
                env.ports = read_ports(e.value);
            } else if (k == "mounts") {
                env.mounts = read_mounts(e.value);
            } else if (k == "persist") {
                env.persist = read_persist(e.value);
            } else if (k == "env") {
                env.env = read_env(e.value);
            } else if (k == "workdir") {
                env.workdir = read_path(e.value, "workdir", PathKind::absolute, expected_for("workdir"));
                workdir_position_ = position(e.value);
            } else if (k == "user") {
                env.user = read_user(e.value);
            } else if (k == "command") {
                env.command = read_command(e.value);
            } else if (k == "engine") {
                env.engine = read_engine(e.value);
            } else if (k == "bench") {
                env.bench = read_bench(e.value);
            }
        }
        if (!have_image)
            fail(position(root), "missing required key 'image'; expected an image reference such as "
                                 "'registry.example.com/team/model:1.0'");
        check_targets(env);
        return env;
    }

private:
    // The places env up mounts into itself: the same rule for env check and env up.
    void check_targets(const ModelEnv& env) const {
        std::vector<std::pair<std::string, std::string>> reserved{
            {persist_checkpoints_target, "the persist folder 'checkpoints'"},
            {persist_logs_target, "the persist folder 'logs'"}};
        if (env.find_port("ssh")) {
            reserved.emplace_back(ssh_keys_target, "the SSH authorized keys (ports.ssh)");
            reserved.emplace_back(ssh_config_target, "the SSH server's settings (ports.ssh)");
        }
        for (const auto& [target, what] : reserved) {
            if (env.workdir == target)
                fail(workdir_position_.value_or(doc_.start()),
                     fmt::format("workdir {} is where env up mounts {}; expected another folder",
                                 quote_for_message(env.workdir), what));
        }
        for (std::size_t i = 0; i < env.mounts.size(); ++i) {
            const std::string& target = env.mounts[i].target;
            if (target == env.workdir)
                fail(mount_target_positions_[i],
                     fmt::format("mount target {} is the working directory ('workdir'); expected another folder",
                                 quote_for_message(target)));
            for (const auto& [place, what] : reserved) {
                if (target == place)
                    fail(mount_target_positions_[i],
                         fmt::format("mount target {} is where env up mounts {}; expected another folder",
                                     quote_for_message(target), what));
            }
        }
    }

    struct Entry {
        std::string key;
        Position key_position;
        std::size_t value;
    };

    [[noreturn]] void fail(Position p, std::string message, std::string hint = {}) const {
        throw ConfigError(file_, p.line, p.column, std::move(message), std::move(hint));
    }

    Position position(std::size_t index) const { return doc_.node(index).position; }

    // The node behind an alias; explicit tags are refused here so every read sees plain data.
    const YamlNode& get(std::size_t index) const {
        const YamlNode& n = doc_.resolved(index);
        if (!n.tag.empty() && n.tag != "?" && n.tag != "!")
            fail(position(index), fmt::format("tag {} is not supported; expected plain values without '!' tags",
                                              quote_for_message(display_tag(n.tag))));
        return n;
    }

    // Where to point for a list item: an empty item has no position of its own, so use the list's.
    Position item_position(std::size_t list, std::size_t item) const {
        const YamlNode& n = doc_.node(item);
        return (n.kind == NodeKind::null && n.implicit) ? position(list) : position(item);
    }

    // Refuses an empty (null) list item, naming it by number since it may have no position.
    void require_item(std::size_t list, std::size_t item, std::size_t number, std::string_view what,
                      std::string_view expected) {
        if (get(item).kind == NodeKind::null)
            fail(item_position(list, item), fmt::format("item {} of {} is empty; expected {}", number, what, expected));
    }

    [[noreturn]] void wrong(std::size_t index, std::string_view what, std::string_view expected) const {
        fail(position(index), fmt::format("{} must be {} (got {})", what, expected, describe_value(get(index))));
    }

    // The mapping's keys and values, with scalar keys and no duplicates.
    std::vector<Entry> entries(std::size_t index, std::string_view what, std::string_view expected) {
        const YamlNode& n = get(index);
        if (n.kind != NodeKind::mapping) wrong(index, what, expected);
        std::vector<Entry> out;
        std::map<std::string, Position> seen;
        for (std::size_t i = 0; i + 1 < n.children.size(); i += 2) {
            const std::size_t key_index = n.children[i];
            const YamlNode& key = get(key_index);
            if (key.kind == NodeKind::null)
                fail(position(key_index), fmt::format("a key is missing in {}; expected 'name: value'", what));
            if (key.kind != NodeKind::scalar)
                fail(position(key_index),
                     fmt::format("keys in {} must be plain names (got {})", what, describe_value(key)));
            const auto [it, inserted] = seen.emplace(key.value, position(key_index));
            if (!inserted)
                fail(position(key_index),
                     fmt::format("duplicate key {} (first at line {}); expected each key once",
                                 quote_for_message(key.value), it->second.line));
            out.push_back(Entry{key.value, position(key_index), n.children[i + 1]});
        }
        return out;
    }

    [[noreturn]] void unknown_key(const Entry& e, const std::vector<std::string>& known, std::string_view where) {
        std::string message = fmt::format("unknown key {} {}", quote_for_message(e.key), where);
        if (auto suggestion = closest_match(e.key, known)) message += fmt::format(" (did you mean '{}'?)", *suggestion);
        message += "; expected one of " + join(known, ", ");
        fail(e.key_position, message, e.key == "<<" ? "YAML merge keys ('<<') are not supported" : "");
    }

    // Refuses "key:" with nothing after it; the position is the key's, since an empty value has none.
    void require_value(const Entry& e, std::string_view what, std::string_view expected) {
        if (get(e.value).kind == NodeKind::null)
            fail(e.key_position, fmt::format("{} has no value; expected {}", what, expected));
    }

    // The text of a string scalar (quoted or plain, not a number, boolean or collection).
    const std::string& string_value(std::size_t index, std::string_view what, std::string_view expected) {
        const YamlNode& n = get(index);
        if (type_of(n) != ValueType::string) wrong(index, what, expected);
        return n.value;
    }

    // The text of a string or number, for values passed on as text (env, command).
    std::string text_value(std::size_t index, std::string_view what, std::string_view expected) {
        const YamlNode& n = get(index);
        const ValueType t = type_of(n);
        if (t != ValueType::string && !is_number(t))
            fail(position(index), fmt::format("{}: expected {} (got {})", what, expected, describe_value(n)),
                 t == ValueType::boolean ? "quote it to pass the text" : "");
        if (n.value.find('\0') != std::string::npos)
            fail(position(index), fmt::format("{} contains a NUL character; expected text without it", what));
        return n.value;
    }

    ImageRef read_image(std::size_t index) {
        const std::string& text = string_value(index, "'image'", expected_for("image"));
        try {
            return parse_image_ref(text);
        } catch (const Error& e) {
            fail(position(index), e.what());
        }
    }

    GpuRequest read_gpus(std::size_t index) {
        const YamlNode& n = get(index);
        const std::string_view expected = expected_for("gpus");
        GpuRequest request;
        if (n.kind == NodeKind::scalar && n.value == "all") {
            request.kind = GpuRequest::Kind::all;
            return request;
        }
        if (type_of(n) == ValueType::integer) {
            const auto count = parse_decimal(n.value);
            if (!count || *count < 0) wrong(index, "'gpus'", expected);
            if (*count > max_gpus)
                fail(position(index), fmt::format("'gpus' asks for {} GPUs; expected at most {}", *count, max_gpus));
            request.kind = GpuRequest::Kind::count;
            request.count = static_cast<int>(*count);
            return request;
        }
        if (n.kind != NodeKind::sequence) wrong(index, "'gpus'", expected);
        if (n.children.empty())
            fail(position(index), "'gpus' is an empty list; expected GPU indices such as [0, 1], or 0 for CPU only");
        request.kind = GpuRequest::Kind::indices;
        std::map<long long, int> seen;
        for (std::size_t i = 0; i < n.children.size(); ++i) {
            const std::size_t item = n.children[i];
            require_item(index, item, i + 1, "'gpus'", "a GPU index");
            const YamlNode& g = get(item);
            const auto value = type_of(g) == ValueType::integer ? parse_decimal(g.value) : std::nullopt;
            if (!value || *value < 0) wrong(item, "a GPU index", "an integer of 0 or more");
            if (*value >= max_gpus)
                fail(position(item), fmt::format("GPU index {} is too large; expected less than {}", *value, max_gpus));
            const auto [it, inserted] = seen.emplace(*value, position(item).line);
            if (!inserted)
                fail(position(item), fmt::format("GPU index {} is listed twice (first at line {}); expected each "
                                                 "index once",
                                                 *value, it->second));
            request.indices.push_back(static_cast<int>(*value));
        }
        return request;
    }

    std::uint64_t read_size(std::size_t index, std::string_view what) {
        const YamlNode& n = get(index);
        const ValueType t = type_of(n);
        std::optional<std::uint64_t> bytes;
        if (t == ValueType::string || is_number(t)) bytes = parse_byte_size(n.value);
        if (!bytes) wrong(index, fmt::format("'{}'", what), size_expected);
        return *bytes;
    }

    double read_cpus(std::size_t index) {
        const YamlNode& n = get(index);
        std::optional<double> value;
        if (is_number(type_of(n))) value = parse_real(n.value);
        if (!value || !(*value > 0)) wrong(index, "'cpus'", expected_for("cpus"));
        return *value;
    }

    std::vector<Port> read_ports(std::size_t index) {
        std::vector<Port> ports;
        std::map<long long, std::pair<std::string, int>> used;
        std::map<long long, std::pair<std::string, int>> host_used;
        const char* const port_expected = "a container port from 1 to 65535";
        const char* const pair_expected =
            "a container port from 1 to 65535, or '<host port>:<container port>' such as '8888:8888'";
        for (const Entry& e : entries(index, "'ports'", expected_for("ports"))) {
            if (!valid_port_name(e.key))
                fail(e.key_position, fmt::format("port name {} is not valid; expected lowercase letters, digits, "
                                                 "'_' and '-', starting with a letter (such as 'jupyter')",
                                                 quote_for_message(e.key)));
            const std::string what = fmt::format("port '{}'", e.key);
            require_value(e, what, port_expected);
            const YamlNode& v = get(e.value);
            Port port{e.key, 0, std::nullopt};
            const ValueType t = type_of(v);
            if (t == ValueType::string && v.value.find(':') != std::string::npos) {
                // '<host>:<container>': a fixed host port.
                const std::string_view text = v.value;
                const auto colon = text.find(':');
                const auto host = parse_decimal(text.substr(0, colon));
                const auto container = parse_decimal(text.substr(colon + 1));
                const bool digits = all_of(text.substr(0, colon), is_ascii_digit) && all_of(text.substr(colon + 1), is_ascii_digit);
                if (!digits || !host || !container || *host < 1 || *host > 65535 || *container < 1 || *container > 65535)
                    wrong(e.value, what, pair_expected);
                port.host_port = static_cast<int>(*host);
                port.container_port = static_cast<int>(*container);
            } else {
                const auto number = t == ValueType::integer ? parse_decimal(v.value) : std::nullopt;
                if (!number || *number < 1 || *number > 65535)
                    wrong(e.value, what, t == ValueType::string ? pair_expected : port_expected);
                port.container_port = static_cast<int>(*number);
            }
            const auto [it, inserted] = used.emplace(port.container_port, std::make_pair(e.key, e.key_position.line));
            if (!inserted)
                fail(position(e.value),
                     fmt::format("container port {} is already used by '{}' at line {}; expected each port once",
                                 port.container_port, it->second.first, it->second.second));
            if (port.host_port) {
                const auto [h, fresh] = host_used.emplace(*port.host_port, std::make_pair(e.key, e.key_position.line));
                if (!fresh)
                    fail(position(e.value),
                         fmt::format("host port {} is already used by '{}' at line {}; expected each host port once",
                                     *port.host_port, h->second.first, h->second.second));
            }
            ports.push_back(std::move(port));
        }
        return ports;
    }

    UserSetting read_user(std::size_t index) {
        const YamlNode& n = get(index);
        const std::string& text = n.value;
        UserSetting user;
        if (type_of(n) == ValueType::string && text == "host") return user;
        if (type_of(n) == ValueType::string && text == "image") {
            user.mode = UserSetting::Mode::image;
            return user;
        }
        const auto colon = text.find(':');
        const auto id = [](std::string_view part) -> std::optional<std::uint32_t> {
            if (part.empty() || part.size() > 10 || !all_of(part, is_ascii_digit)) return std::nullopt;
            const auto value = parse_decimal(part);
            if (!value || *value > 2147483646) return std::nullopt;  // 2^31 - 2: the largest uid most systems allow
            return static_cast<std::uint32_t>(*value);
        };
        std::optional<std::uint32_t> uid, gid;
        if (type_of(n) == ValueType::string && colon != std::string::npos) {
            uid = id(std::string_view(text).substr(0, colon));
            gid = id(std::string_view(text).substr(colon + 1));
        }
        if (!uid || !gid) {
            std::string message = fmt::format("'user' must be {} (got {})", expected_for("user"), describe_value(n));
            if (type_of(n) == ValueType::string && colon == std::string::npos) {
                if (auto suggestion = closest_match(text, {"host", "image"}))
                    message += fmt::format("; did you mean '{}'?", *suggestion);
            }
            fail(position(index), message,
                 type_of(n) == ValueType::integer ? "write the uid and the gid, such as '1000:1000'" : "");
        }
        user.mode = UserSetting::Mode::ids;
        user.uid = *uid;
        user.gid = *gid;
        return user;
    }

    // Refuses a {name} other than {model}, {branch} and {user}, and a lone brace.
    void check_placeholders(std::size_t index, std::string_view what) {
        const std::string& text = get(index).value;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '}')
                fail(position(index), fmt::format("'{}' has a '}}' without its '{{'; expected {{model}}, {{branch}} or "
                                                  "{{user}}",
                                                  what));
            if (text[i] != '{') continue;
            const auto close = text.find('}', i);
            const std::string name = close == std::string::npos ? std::string() : text.substr(i + 1, close - i - 1);
            if (name != "model" && name != "branch" && name != "user") {
                std::string message =
                    close == std::string::npos
                        ? fmt::format("'{}' has a '{{' without its '}}'", what)
                        : fmt::format("'{}' uses the unknown placeholder {}", what, quote_for_message("{" + name + "}"));
                if (auto suggestion = closest_match(name, {"model", "branch", "user"}); suggestion && close != std::string::npos)
                    message += fmt::format(" (did you mean '{{{}}}'?)", *suggestion);
                fail(position(index), message + "; expected {model}, {branch} or {user}");
            }
            i = close;
        }
    }

    std::string read_path(std::size_t index, std::string_view what, PathKind kind, std::string_view expected) {
        const std::string& text = string_value(index, fmt::format("'{}'", what), expected);
        PathCheck check = check_path(text, kind);
        if (!check.problem.empty())
            fail(position(index), fmt::format("'{}' path {} {}; expected {} without '..'", what,
                                              quote_for_message(text), check.problem, expected));
        return check.normalised;
    }

    std::vector<Mount> read_mounts(std::size_t index) {
        const YamlNode& list = get(index);
        if (list.kind != NodeKind::sequence) wrong(index, "'mounts'", expected_for("mounts"));
        const std::vector<std::string> known{"source", "target", "readonly"};
        const char* const mount_expected = "a mapping with 'source', 'target' and optional 'readonly'";
        std::vector<Mount> mounts;
        std::map<std::string, int> targets;
        for (std::size_t i = 0; i < list.children.size(); ++i) {
            const std::size_t item = list.children[i];
            require_item(index, item, i + 1, "'mounts'", mount_expected);
            Mount mount;
            std::optional<Position> target_position;
            bool have_source = false;
            for (const Entry& e : entries(item, "each mount", mount_expected)) {
                if (std::find(known.begin(), known.end(), e.key) == known.end())
                    unknown_key(e, known, "in a mount");
                require_value(e, "'" + e.key + "'", e.key == "readonly" ? "true or false" : "an absolute path");
                if (e.key == "source") {
                    mount.source = read_path(e.value, "source", PathKind::absolute, "an absolute host path");
                    check_placeholders(e.value, "source");
                    have_source = true;
                } else if (e.key == "target") {
                    mount.target = read_path(e.value, "target", PathKind::absolute, "an absolute container path");
                    if (mount.target == "/")
                        fail(position(e.value), "mount target '/' would hide the container's whole file system; "
                                                "expected a folder such as /data");
                    for (const char* name : {"{model}", "{branch}", "{user}"})
                        if (mount.target.find(name) != std::string::npos)
                            fail(position(e.value), fmt::format("'target' uses {}, which expands only in sources and "
                                                                "persist folders; expected a fixed container path",
                                                                name));
                    target_position = position(e.value);
                } else {
                    const YamlNode& v = get(e.value);
                    if (type_of(v) != ValueType::boolean) wrong(e.value, "'readonly'", "true or false");
                    mount.readonly = v.value[0] == 't' || v.value[0] == 'T';
                }
            }
            if (!have_source) fail(position(item), fmt::format("mount is missing 'source'; expected {}", mount_expected));
            if (!target_position)
                fail(position(item), fmt::format("mount is missing 'target'; expected {}", mount_expected));
            const auto [it, inserted] = targets.emplace(mount.target, target_position->line);
            if (!inserted)
                fail(*target_position, fmt::format("mount target {} is already used at line {}; expected each "
                                                   "target once",
                                                   quote_for_message(mount.target), it->second));
            mount_target_positions_.push_back(*target_position);
            mounts.push_back(std::move(mount));
        }
        return mounts;
    }

    Persist read_persist(std::size_t index) {
        Persist persist;
        const std::vector<std::string> known{"checkpoints", "logs"};
        const char* const folder_expected = "a host folder (absolute, or relative to the repository)";
        for (const Entry& e : entries(index, "'persist'", expected_for("persist"))) {
            if (std::find(known.begin(), known.end(), e.key) == known.end()) unknown_key(e, known, "in 'persist'");
            const std::string what = "persist." + e.key;
            require_value(e, "'" + what + "'", folder_expected);
            PersistPath p;
            p.path = read_path(e.value, what, PathKind::absolute_or_relative, folder_expected);
            check_placeholders(e.value, what);
            p.relative = p.path.front() != '/';
            (e.key == "checkpoints" ? persist.checkpoints : persist.logs) = std::move(p);
        }
        return persist;
    }

    std::vector<std::pair<std::string, std::string>> read_env(std::size_t index) {
        std::vector<std::pair<std::string, std::string>> env;
        for (const Entry& e : entries(index, "'env'", expected_for("env"))) {
            if (!valid_env_name(e.key))
                fail(e.key_position, fmt::format("environment variable name {} is not valid; expected letters, "
                                                 "digits and '_', not starting with a digit",
                                                 quote_for_message(e.key)));
            const std::string what = fmt::format("'{}' in 'env'", e.key);
            if (get(e.value).kind == NodeKind::null)
                fail(e.key_position, fmt::format("{}: expected a string or number (got nothing); write '' for an "
                                                 "empty value",
                                                 what));
            std::string value = text_value(e.value, what, "a string or number");
            if (value.find_first_of("\r\n") != std::string::npos)
                fail(position(e.value), fmt::format("{} holds a line break, which a container's environment cannot "
                                                    "receive (the env file has one variable a line); expected one "
                                                    "line",
                                                    what));
            env.emplace_back(e.key, std::move(value));
        }
        return env;
    }

    Command read_command(std::size_t index) {
        const YamlNode& n = get(index);
        Command command;
        if (n.kind == NodeKind::sequence) {
            if (n.children.empty())
                fail(position(index), "'command' is an empty list; expected a program and its arguments");
            for (std::size_t i = 0; i < n.children.size(); ++i) {
                const std::size_t item = n.children[i];
                require_item(index, item, i + 1, "'command'", "a string or number");
                command.argv.push_back(text_value(item, "each item of 'command'", "a string or number"));
            }
            if (command.argv.front().empty())
                fail(position(n.children.front()), "'command' starts with an empty program name; expected a program");
            command.form = Command::Form::exec;
            return command;
        }
        command.shell = text_value(index, "'command'", expected_for("command"));
        if (command.shell.find_first_not_of(" \t\n") == std::string::npos)
            fail(position(index), "'command' is blank; expected a command line, or leave 'command' out");
        command.form = Command::Form::shell;
        return command;
    }

    std::string read_engine(std::size_t index) {
        const std::string& name = string_value(index, "'engine'", expected_for("engine"));
        if (name != "podman" && name != "docker") {
            std::string message = fmt::format("'engine' must be 'podman' or 'docker' (got {})", quote_for_message(name));
            if (auto suggestion = closest_match(name, {"podman", "docker"}))
                message += fmt::format("; did you mean '{}'?", *suggestion);
            fail(position(index), message);
        }
        return name;
    }

    double read_fraction(std::size_t index, std::string_view what) {
        const YamlNode& n = get(index);
        std::optional<double> value;
        if (is_number(type_of(n))) value = parse_real(n.value);
        if (!value || !(*value > 0) || *value > 1) wrong(index, what, fraction_expected);
        return *value;
    }

    ComputeCapability read_capability(std::size_t index) {
        const YamlNode& n = get(index);
        const ValueType t = type_of(n);
        const std::string& s = n.value;
        // major[.minor]: one or two digits, then one digit, as NVIDIA numbers them (7.5, 8.0, 9.0, 12.0).
        const std::size_t dot = s.find('.');
        const std::string_view major = std::string_view(s).substr(0, dot);
        const std::string_view minor =
            dot == std::string::npos ? std::string_view("0") : std::string_view(s).substr(dot + 1);
        const bool ok = (t == ValueType::string || is_number(t)) && major.size() >= 1 && major.size() <= 2 &&
                        all_of(major, is_ascii_digit) && minor.size() == 1 && all_of(minor, is_ascii_digit);
        if (!ok) wrong(index, "'bench.min_compute_capability'", capability_expected);
        return ComputeCapability{std::stoi(std::string(major)), minor[0] - '0'};
    }

    BenchThresholds read_bench(std::size_t index) {
        BenchThresholds bench;
        const std::vector<std::string> known{"min_bandwidth_fraction", "min_fp32_fraction",
                                             "min_compute_capability", "min_free_memory"};
        for (const Entry& e : entries(index, "'bench'", expected_for("bench"))) {
            if (std::find(known.begin(), known.end(), e.key) == known.end()) unknown_key(e, known, "in 'bench'");
            const std::string what = "'bench." + e.key + "'";
            if (e.key == "min_bandwidth_fraction") {
                require_value(e, what, fraction_expected);
                bench.min_bandwidth_fraction = read_fraction(e.value, what);
            } else if (e.key == "min_fp32_fraction") {
                require_value(e, what, fraction_expected);
                bench.min_fp32_fraction = read_fraction(e.value, what);
            } else if (e.key == "min_compute_capability") {
                require_value(e, what, capability_expected);
                bench.min_compute_capability = read_capability(e.value);
            } else {
                require_value(e, what, size_expected);
                bench.min_free_memory = read_size(e.value, "bench.min_free_memory");
            }
        }
        return bench;
    }

    const YamlDocument& doc_;
    const std::string& file_;
    std::vector<Position> mount_target_positions_;
    std::optional<Position> workdir_position_;
};

std::string format_number(double v) { return fmt::format("{}", v); }

std::string describe_path(const std::optional<PersistPath>& p) {
    if (!p) return "(default: a folder per model under the common git dir)";
    return p->relative ? p->path + " (relative to the repository)" : p->path;
}

std::string describe_capability(const ComputeCapability& c) { return fmt::format("{}.{}", c.major, c.minor); }

}  // namespace

std::optional<int> ModelEnv::find_port(std::string_view name) const {
    for (const Port& p : ports)
        if (p.name == name) return p.container_port;
    return std::nullopt;
}

const std::vector<std::string>& modelenv_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> out;
        for (const auto& spec : top_level_keys) out.emplace_back(spec.name);
        return out;
    }();
    return keys;
}

ModelEnv load_modelenv_text(std::string_view text, const std::string& display_name) {
    detail::YamlLimits limits;
    limits.max_bytes = modelenv_max_bytes;
    const YamlDocument doc = detail::parse_yaml_document(text, display_name, limits);
    return Loader(doc, display_name).load();
}

std::optional<std::filesystem::path> modelenv_link_target(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
    const fs::path resolved = fs::canonical(path, ec);
    std::error_code ec_worktree;
    const fs::path worktree = fs::canonical(fs::absolute(path, ec_worktree).parent_path(), ec_worktree);
    if (ec || ec_worktree || !is_below(resolved, worktree) || resolved == worktree ||
        *resolved.lexically_relative(worktree).begin() == ".git" || !fs::is_regular_file(resolved, ec))
        return std::nullopt;
    return resolved;
}

ModelEnv load_modelenv_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (!modelenv_link_target(path)) {
        throw Error(fmt::format("{} is a link to {}, which is not a file of its worktree: not read", name,
                                std::filesystem::read_symlink(path, ec).string()),
                    "replace the link with the file (or a link to a file of the worktree) and commit that");
    }
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
        throw Error(fmt::format("cannot read {}: {}", name, ec ? ec.message() : "no such file"),
                    "create it (see gitmodelenv(5)) or run the command from the model's worktree");
    if (!std::filesystem::is_regular_file(status))
        throw Error(fmt::format("cannot read {}: not a regular file", name));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
    // Read one byte past the cap: enough to know the file is too large without reading it all.
    std::string text(modelenv_max_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) throw Error(fmt::format("cannot read {}: read error", name));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > modelenv_max_bytes)
        throw ConfigError(name, 1, 1,
                          fmt::format("the file is larger than {} bytes (1 MiB); expected a short configuration",
                                      modelenv_max_bytes));
    return load_modelenv_text(text, name);
}

std::string describe(const ModelEnv& env) {
    std::string out;
    const auto line = [&](std::string_view key, const std::string& value) {
        out += fmt::format("{}: {}\n", key, value);
    };
    line("image", env.image.to_string() + (env.image.pinned_by_digest() ? " (pinned by digest)" : " (pinned by tag)"));
    switch (env.gpus.kind) {
        case GpuRequest::Kind::all: line("gpus", "all"); break;
        case GpuRequest::Kind::count: line("gpus", env.gpus.count ? std::to_string(env.gpus.count) : "0 (CPU only)"); break;
        case GpuRequest::Kind::indices: {
            std::vector<std::string> items;
            for (int i : env.gpus.indices) items.push_back(std::to_string(i));
            line("gpus", "[" + join(items, ", ") + "]");
            break;
        }
    }
    line("memory", env.memory_bytes ? fmt::format("{} ({} bytes)", format_byte_size(*env.memory_bytes), *env.memory_bytes)
                                    : "(engine default)");
    line("cpus", env.cpus ? format_number(*env.cpus) : "(engine default)");
    line("shm_size", env.shm_bytes ? fmt::format("{} ({} bytes)", format_byte_size(*env.shm_bytes), *env.shm_bytes)
                                   : "(engine default)");
    if (env.ports.empty()) line("ports", "(none)");
    for (const Port& p : env.ports)
        line("port", fmt::format("{} -> {}{}", p.name, p.container_port,
                                 p.host_port ? fmt::format(" (fixed host port {})", *p.host_port) : ""));
    if (env.mounts.empty()) line("mounts", "(none)");
    for (const Mount& m : env.mounts)
        line("mount", fmt::format("{} -> {}{}", m.source, m.target, m.readonly ? " (read-only)" : ""));
    line("persist.checkpoints", describe_path(env.persist.checkpoints));
    line("persist.logs", describe_path(env.persist.logs));
    if (env.env.empty()) line("env", "(none)");
    for (const auto& [name, value] : env.env) line("env", fmt::format("{}={}", name, quote_for_message(value)));
    line("workdir", env.workdir);
    line("user", describe_user(env.user) + (env.user.mode == UserSetting::Mode::host ? " (the caller's uid:gid)"
                                             : env.user.mode == UserSetting::Mode::image ? " (the image's own user)"
                                                                                        : ""));
    switch (env.command.form) {
        case Command::Form::none: line("command", "(image default)"); break;
        case Command::Form::shell:
            line("command", quote_for_message(env.command.shell) + " (run by the image's shell)");
            break;
        case Command::Form::exec: {
            std::vector<std::string> items;
            for (const auto& a : env.command.argv) items.push_back(quote_for_message(a));
            line("command", "[" + join(items, ", ") + "]");
            break;
        }
    }
    line("engine", env.engine ? *env.engine : "(auto: podman, else docker)");
    const BenchThresholds& b = env.bench;
    line("bench.min_bandwidth_fraction", b.min_bandwidth_fraction ? format_number(*b.min_bandwidth_fraction) : "(not checked)");
    line("bench.min_fp32_fraction", b.min_fp32_fraction ? format_number(*b.min_fp32_fraction) : "(not checked)");
    line("bench.min_compute_capability",
         b.min_compute_capability ? describe_capability(*b.min_compute_capability) : "(not checked)");
    line("bench.min_free_memory",
         b.min_free_memory ? fmt::format("{} ({} bytes)", format_byte_size(*b.min_free_memory), *b.min_free_memory)
                           : "(not checked)");
    return out;
}

nlohmann::json to_json(const ModelEnv& env) {
    using nlohmann::json;
    const auto optional_number = [](const auto& v) -> json { return v ? json(*v) : json(nullptr); };
    json j;
    j["image"] = {{"reference", env.image.to_string()}, {"original", env.image.original},
                  {"registry", env.image.registry}, {"path", env.image.path},
                  {"tag", env.image.tag},           {"digest", env.image.digest},
                  {"pinned_by_digest", env.image.pinned_by_digest()}};
    switch (env.gpus.kind) {
        case GpuRequest::Kind::all: j["gpus"] = "all"; break;
        case GpuRequest::Kind::count: j["gpus"] = env.gpus.count; break;
        case GpuRequest::Kind::indices: j["gpus"] = env.gpus.indices; break;
    }
    j["memory_bytes"] = optional_number(env.memory_bytes);
    j["cpus"] = optional_number(env.cpus);
    j["shm_bytes"] = optional_number(env.shm_bytes);
    j["ports"] = json::array();
    for (const Port& p : env.ports)
        j["ports"].push_back({{"name", p.name},
                              {"container_port", p.container_port},
                              {"host_port", p.host_port ? json(*p.host_port) : json(nullptr)}});
    j["mounts"] = json::array();
    for (const Mount& m : env.mounts)
        j["mounts"].push_back({{"source", m.source}, {"target", m.target}, {"readonly", m.readonly}});
    const auto persist_path = [](const std::optional<PersistPath>& p) -> json {
        if (!p) return nullptr;
        return {{"path", p->path}, {"relative", p->relative}};
    };
    j["persist"] = {{"checkpoints", persist_path(env.persist.checkpoints)}, {"logs", persist_path(env.persist.logs)}};
    j["env"] = json::array();
    for (const auto& [name, value] : env.env) j["env"].push_back({{"name", name}, {"value", value}});
    j["workdir"] = env.workdir;
    j["user"] = describe_user(env.user);
    switch (env.command.form) {
        case Command::Form::none: j["command"] = nullptr; break;
        case Command::Form::shell: j["command"] = env.command.shell; break;
        case Command::Form::exec: j["command"] = env.command.argv; break;
    }
    j["engine"] = env.engine ? json(*env.engine) : json(nullptr);
    const BenchThresholds& b = env.bench;
    j["bench"] = {{"min_bandwidth_fraction", optional_number(b.min_bandwidth_fraction)},
                  {"min_fp32_fraction", optional_number(b.min_fp32_fraction)},
                  {"min_compute_capability",
                   b.min_compute_capability ? json(describe_capability(*b.min_compute_capability)) : json(nullptr)},
                  {"min_free_memory_bytes", optional_number(b.min_free_memory)}};
    return j;
}

nlohmann::json container_settings(const ModelEnv& env) {
    nlohmann::json j = to_json(env);
    j.erase("bench");
    j.erase("engine");
    j["image"] = j["image"]["reference"];
    return j;
}

std::string describe_user(const UserSetting& user) {
    switch (user.mode) {
        case UserSetting::Mode::host: return "host";
        case UserSetting::Mode::image: return "image";
        case UserSetting::Mode::ids: break;
    }
    return fmt::format("{}:{}", user.uid, user.gid);
}

std::string expand_placeholders(std::string_view text, const Placeholders& values) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{') {
            const auto close = text.find('}', i);
            if (close != std::string_view::npos) {
                const std::string_view name = text.substr(i + 1, close - i - 1);
                const std::string* value = name == "model"    ? &values.model
                                           : name == "branch" ? &values.branch
                                           : name == "user"   ? &values.user
                                                              : nullptr;
                if (value) {
                    out += *value;
                    i = close;
                    continue;
                }
            }
        }
        out += text[i];
    }
    return out;
}

std::string pin_image_digest(std::string_view text, const std::string& display_name, const std::string& digest) {
    detail::YamlLimits limits;
    limits.max_bytes = modelenv_max_bytes;
    const YamlDocument doc = detail::parse_yaml_document(text, display_name, limits);
    const ModelEnv env = Loader(doc, display_name).load();
    if (env.image.pinned_by_digest())
        throw Error(fmt::format("{} already pins the image by digest ({})", display_name, env.image.to_string()));
    if (digest.rfind("sha256:", 0) != 0 || digest.size() != 71)
        throw Error(fmt::format("'{}' is not a sha256 digest", digest));
    // The image's value node: the top level's "image" key, whose value the loader has read.
    const YamlNode& top = doc.resolved(doc.root());
    std::optional<Position> where;
    for (std::size_t i = 0; i + 1 < top.children.size(); i += 2)
        if (doc.resolved(top.children[i]).value == "image") where = doc.node(top.children[i + 1]).position;
    const std::string& written = env.image.original;
    // A UTF-8 byte order mark is read past by the parser, so its columns on line 1 come after it.
    std::size_t offset = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
    for (int line = 1; where && line < where->line && offset != std::string_view::npos; ++line) {
        offset = text.find('\n', offset);
        if (offset != std::string_view::npos) ++offset;
    }
    if (!where || offset == std::string_view::npos)
        throw Error(fmt::format("cannot find the image's value in {}", display_name), "edit the pin by hand");
    std::size_t at = offset + static_cast<std::size_t>(where->column - 1);
    // Plain, 'single' or "double" quoted, on one line: the reference as written follows.
    if (at < text.size() && (text[at] == '\'' || text[at] == '"')) ++at;
    if (text.substr(at, written.size()) != written)
        throw Error(fmt::format("the image in {} is not written on one line as {}; cannot rewrite it safely",
                                display_name, quote_for_message(written)),
                    "write it as a plain value (image: name:tag), or add the digest by hand");
    std::string out(text.substr(0, at + written.size()));
    out += "@" + digest;
    out += text.substr(at + written.size());
    return out;
}

}  // namespace gm::config
