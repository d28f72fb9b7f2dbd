// A fake libcuda.so.1 for tests: the CUDA driver API entry points git-model-bench's driver backend
// loads (gitmodel/gpu/cuda_driver.cpp), with "device memory" in host memory and the kernels of
// git-model-bench/kernels/kernels.cu emulated on the CPU by name, so the backend's real code (the
// dlopen, the arguments of each launch, the copies, the read-back, the memory test's error record,
// the error paths) runs on a machine without a GPU. It stands for a GPU and its driver only.
//
// Configured by fake_cuda_set(key, value) from a test that dlopens the same file, or by
// FAKE_CUDA_<KEY> environment variables (for end-to-end tests of the installed binary), read when
// the library loads and on fake_cuda_reset(). Keys: driver_version (12020), init_result (0),
// device_count (1), cc_major (9), cc_minor (0), compute_mode (0), mig (0: a whole GPU),
// retain_result (0), module_result (0), free_mib (320), bad_word (-1: none; else the index of a
// 64-bit word of the memory test that reads back with bit 2 flipped), launch_result (0),
// alloc_limit_mib (0: none; else cuMemAlloc of more fails with CUDA_ERROR_OUT_OF_MEMORY).
// Built with -DFAKE_CUDA_OLD it lacks cuMemGetInfo_v2, like a driver older than r450.

#include "gitmodel/gpu/pattern.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>

namespace {

using u64 = unsigned long long;
namespace pattern = gm::gpu::pattern;

std::mutex config_mutex;
std::map<std::string, long long> config;  // see the file comment

// Fills the configuration with defaults, then FAKE_CUDA_<KEY> from the environment.
void load_defaults() {
    config = {{"driver_version", 12020}, {"init_result", 0}, {"device_count", 1}, {"cc_major", 9}, {"cc_minor", 0},
              {"compute_mode", 0},       {"mig", 0},         {"retain_result", 0}, {"module_result", 0},
              {"free_mib", 320},         {"bad_word", -1},   {"launch_result", 0},     {"alloc_limit_mib", 0}};
    for (auto& [key, value] : config) {
        std::string name = "FAKE_CUDA_" + key;
        for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (const char* text = std::getenv(name.c_str())) value = std::strtoll(text, nullptr, 0);
    }
}

// A configuration value.
long long get(const char* key) {
    std::lock_guard<std::mutex> lock(config_mutex);
    if (config.empty()) load_defaults();
    return config.at(key);
}

// A kernel of the fake module: its name is its identity.
struct Kernel {
    const char* name;
};
Kernel kernels[] = {{"gm_init"},     {"gm_triad"},    {"gm_copy"},          {"gm_fma"}, {"gm_check_triad"},
                    {"gm_mem_write_addresses"}, {"gm_mem_check_addresses"}, {"gm_mem_fill"}, {"gm_mem_check"}};

// A timing event: when it was recorded.
struct Event {
    std::chrono::steady_clock::time_point at;
};

int context_token, stream_token, module_token;  // addresses handed out as opaque handles

// The argument `i` of a launch, of type T.
template <class T>
T arg(void** params, int i) {
    T value;
    std::memcpy(&value, params[i], sizeof value);
    return value;
}

// What the check kernels do on a failing word or element: count it and record the first ones.
void record_error(u64* record, u64 where, u64 got, u64 expected, u64 test) {
    const u64 slot = record[0]++;
    if (slot < static_cast<u64>(pattern::memtest_max_reported)) {
        const int s = static_cast<int>(slot);
        record[pattern::memtest_address_at(s)] = where;
        record[pattern::memtest_got_at(s)] = got;
        record[pattern::memtest_expected_at(s)] = expected;
        record[pattern::memtest_test_at(s)] = test;
    }
}

// A word of the memory test as read back: the configured bad word (index `bad`) has bit 2 flipped.
u64 read_word(const u64* words, u64 i, long long bad) {
    return bad >= 0 && static_cast<u64>(bad) == i ? words[i] ^ 4u : words[i];
}

// Runs one kernel of kernels.cu on the CPU; threads is the grid's size in threads.
int emulate(const Kernel& kernel, u64 threads, void** p) {
    const std::string name = kernel.name;
    const long long bad = get("bad_word");
    if (name == "gm_init") {
        auto* a = reinterpret_cast<float*>(arg<u64>(p, 0));
        auto* b = reinterpret_cast<float*>(arg<u64>(p, 1));
        const u64 n = 4 * arg<u64>(p, 2);
        for (u64 i = 0; i < n; ++i) {
            a[i] = pattern::triad_a(i);
            b[i] = pattern::triad_b(i);
        }
    } else if (name == "gm_triad") {
        const auto* a = reinterpret_cast<const float*>(arg<u64>(p, 0));
        const auto* b = reinterpret_cast<const float*>(arg<u64>(p, 1));
        auto* c = reinterpret_cast<float*>(arg<u64>(p, 2));
        const float s = arg<float>(p, 3);
        const u64 n = 4 * arg<u64>(p, 4);
        for (u64 i = 0; i < n; ++i) c[i] = a[i] + s * b[i];
    } else if (name == "gm_copy") {
        std::memcpy(reinterpret_cast<void*>(arg<u64>(p, 1)), reinterpret_cast<const void*>(arg<u64>(p, 0)),
                    16 * arg<u64>(p, 2));
    } else if (name == "gm_fma") {
        auto* out = reinterpret_cast<float*>(arg<u64>(p, 0));
        const unsigned iterations = arg<unsigned>(p, 1);
        const float m = arg<float>(p, 2), add = arg<float>(p, 3);
        for (u64 t = 0; t < threads; ++t) {
            float x[pattern::fma_accumulators];
            for (int k = 0; k < pattern::fma_accumulators; ++k) x[k] = pattern::fma_start(static_cast<std::uint32_t>(t), k);
            for (unsigned it = 0; it < iterations; ++it)
                for (int k = 0; k < pattern::fma_accumulators; ++k) x[k] = x[k] * m + add;
            float sum = 0.0f;
            for (int k = 0; k < pattern::fma_accumulators; ++k) sum += x[k];
            out[t] = sum;
        }
    } else if (name == "gm_check_triad") {
        const auto* v = reinterpret_cast<const float*>(arg<u64>(p, 0));
        const u64 n = 4 * arg<u64>(p, 1);
        auto* record = reinterpret_cast<u64*>(arg<u64>(p, 2));
        for (u64 i = 0; i < n; ++i) {
            const float expected = pattern::triad_result(i);
            if (v[i] != expected) {
                std::uint32_t got_bits = 0, expected_bits = 0;
                std::memcpy(&got_bits, &v[i], sizeof got_bits);
                std::memcpy(&expected_bits, &expected, sizeof expected_bits);
                record_error(record, i, got_bits, expected_bits, pattern::stream_result_test);
            }
        }
    } else if (name == "gm_mem_write_addresses") {
        auto* w = reinterpret_cast<u64*>(arg<u64>(p, 0));
        const u64 n = arg<u64>(p, 1);
        for (u64 i = 0; i < n; ++i) w[i] = reinterpret_cast<u64>(w + i);
    } else if (name == "gm_mem_check_addresses") {
        const auto* w = reinterpret_cast<const u64*>(arg<u64>(p, 0));
        const u64 n = arg<u64>(p, 1);
        auto* record = reinterpret_cast<u64*>(arg<u64>(p, 2));
        for (u64 i = 0; i < n; ++i) {
            const u64 got = read_word(w, i, bad), expected = reinterpret_cast<u64>(w + i);
            if (got != expected) record_error(record, reinterpret_cast<u64>(w + i), got, expected, pattern::memtest_address_test);
        }
    } else if (name == "gm_mem_fill") {
        auto* w = reinterpret_cast<u64*>(arg<u64>(p, 0));
        const u64 n = arg<u64>(p, 1), value = arg<u64>(p, 2);
        for (u64 i = 0; i < n; ++i) w[i] = value;
    } else if (name == "gm_mem_check") {
        auto* w = reinterpret_cast<u64*>(arg<u64>(p, 0));
        const u64 n = arg<u64>(p, 1), expected = arg<u64>(p, 2);
        const int invert = arg<int>(p, 3);
        auto* record = reinterpret_cast<u64*>(arg<u64>(p, 4));
        for (u64 i = 0; i < n; ++i) {
            const u64 got = read_word(w, i, bad);
            if (got != expected) record_error(record, reinterpret_cast<u64>(w + i), got, expected, pattern::memtest_inversion_test);
            if (invert) w[i] = ~expected;
        }
    } else {
        return 500;  // CUDA_ERROR_NOT_FOUND
    }
    return 0;
}

}  // namespace

extern "C" {

void fake_cuda_reset() {
    std::lock_guard<std::mutex> lock(config_mutex);
    load_defaults();
}

void fake_cuda_set(const char* key, long long value) {
    std::lock_guard<std::mutex> lock(config_mutex);
    if (config.empty()) load_defaults();
    config[key] = value;
}

int cuInit(unsigned) {
    // As the real driver: CUDA_VISIBLE_DEVICES set to nothing hides every GPU.
    if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible && !*visible) return 100;  // CUDA_ERROR_NO_DEVICE
    return static_cast<int>(get("init_result"));
}

int cuDriverGetVersion(int* version) {
    *version = static_cast<int>(get("driver_version"));
    return 0;
}

int cuDeviceGetCount(int* count) {
    *count = static_cast<int>(get("device_count"));
    return 0;
}

int cuDeviceGet(int* device, int ordinal) {
    if (ordinal < 0 || ordinal >= get("device_count")) return 101;  // CUDA_ERROR_INVALID_DEVICE
    *device = ordinal;
    return 0;
}

int cuDeviceGetName(char* name, int length, int) {
    const std::string text = get("mig") ? "Fake GPU MIG 1g.10gb" : "Fake GPU";
    std::strncpy(name, text.c_str(), static_cast<std::size_t>(length));
    return 0;
}

int cuDeviceGetUuid_v2(unsigned char* uuid, int device) {
    for (int i = 0; i < 16; ++i) uuid[i] = static_cast<unsigned char>(0xA0 + device + i);
    return 0;
}

int cuDeviceTotalMem_v2(std::size_t* bytes, int) {
    *bytes = std::size_t{1} << 30;
    return 0;
}

int cuDeviceGetAttribute(int* value, int attribute, int device) {
    switch (attribute) {
    // Tiny clocks, so that the CPU reaches the "peaks" the bench computes from them.
    case 13: *value = 1000; break;                                     // clock rate, kHz
    case 16: *value = 1; break;                                        // multiprocessors
    case 18: *value = 0; break;                                        // integrated
    case 20: *value = static_cast<int>(get("compute_mode")); break;    // compute mode
    case 33: *value = 0x19 + device; break;                            // PCI bus
    case 34: *value = 0; break;                                        // PCI device
    case 36: *value = 1000; break;                                     // memory clock, kHz
    case 37: *value = 256; break;                                      // bus width, bits
    case 38: *value = 1 << 20; break;                                  // L2 bytes
    case 39: *value = 512; break;                                      // threads per SM
    case 50: *value = 0; break;                                        // PCI domain
    case 75: *value = static_cast<int>(get("cc_major")); break;
    case 76: *value = static_cast<int>(get("cc_minor")); break;
    default: return 1;  // CUDA_ERROR_INVALID_VALUE: the backend asked for one the fake does not know
    }
    return 0;
}

int cuDevicePrimaryCtxRetain(void** context, int) {
    const int result = static_cast<int>(get("retain_result"));
    if (result == 0) *context = &context_token;
    return result;
}

int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void*) { return 0; }

int cuModuleLoadData(void** module, const void* image) {
    if (const int result = static_cast<int>(get("module_result"))) return result;
    // A fat binary starts with its magic number: an image pointer that is off shows here.
    std::uint32_t magic = 0;
    std::memcpy(&magic, image, sizeof magic);
    if (magic != 0xBA55ED50u) return 200;  // CUDA_ERROR_INVALID_IMAGE
    *module = &module_token;
    return 0;
}

int cuModuleUnload(void*) { return 0; }

int cuModuleGetFunction(void** function, void*, const char* name) {
    for (Kernel& k : kernels) {
        if (std::strcmp(k.name, name) == 0) {
            *function = &k;
            return 0;
        }
    }
    return 500;  // CUDA_ERROR_NOT_FOUND
}

int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, void*, int block_size, std::size_t) {
    *blocks = 512 / block_size;
    return 0;
}

int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned, void*, void** params, void**) {
    if (const int result = static_cast<int>(get("launch_result"))) return result;
    const u64 threads = static_cast<u64>(gx) * gy * gz * bx * by * bz;
    return emulate(*static_cast<Kernel*>(function), threads, params);
}

int cuMemAlloc_v2(u64* pointer, std::size_t bytes) {
    const long long limit = get("alloc_limit_mib");
    if (limit > 0 && bytes > (static_cast<std::size_t>(limit) << 20)) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
    void* memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!memory) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
    *pointer = reinterpret_cast<u64>(memory);
    return 0;
}

int cuMemFree_v2(u64 pointer) {
    std::free(reinterpret_cast<void*>(pointer));
    return 0;
}

int cuMemAllocHost_v2(void** pointer, std::size_t bytes) {
    *pointer = std::malloc(bytes);
    return *pointer ? 0 : 2;
}

int cuMemFreeHost(void* pointer) {
    std::free(pointer);
    return 0;
}

int cuMemcpyHtoDAsync_v2(u64 to, const void* from, std::size_t bytes, void*) {
    std::memcpy(reinterpret_cast<void*>(to), from, bytes);
    return 0;
}

int cuMemcpyDtoHAsync_v2(void* to, u64 from, std::size_t bytes, void*) {
    std::memcpy(to, reinterpret_cast<const void*>(from), bytes);
    return 0;
}

int cuMemsetD8Async(u64 to, unsigned char value, std::size_t count, void*) {
    std::memset(reinterpret_cast<void*>(to), value, count);
    return 0;
}

#ifndef FAKE_CUDA_OLD
int cuMemGetInfo_v2(std::size_t* free, std::size_t* total) {
    *free = static_cast<std::size_t>(get("free_mib")) << 20;
    *total = std::size_t{1} << 30;
    return 0;
}
#endif

int cuStreamCreate(void** stream, unsigned) {
    *stream = &stream_token;
    return 0;
}

int cuStreamDestroy_v2(void*) { return 0; }
int cuStreamSynchronize(void*) { return 0; }

int cuEventCreate(void** event, unsigned) {
    *event = new (std::nothrow) Event{};
    return *event ? 0 : 2;
}

int cuEventDestroy_v2(void* event) {
    delete static_cast<Event*>(event);
    return 0;
}

int cuEventRecord(void* event, void*) {
    static_cast<Event*>(event)->at = std::chrono::steady_clock::now();
    return 0;
}

int cuEventElapsedTime(float* ms, void* start, void* end) {
    const auto span = static_cast<Event*>(end)->at - static_cast<Event*>(start)->at;
    // At least a microsecond: an emulated kernel on an empty range still took some time.
    *ms = std::max(0.001f, std::chrono::duration<float, std::milli>(span).count());
    return 0;
}

int cuGetErrorName(int error, const char** name) {
    static const std::map<int, const char*> names = {
        {2, "CUDA_ERROR_OUT_OF_MEMORY"},         {46, "CUDA_ERROR_DEVICE_UNAVAILABLE"},
        {100, "CUDA_ERROR_NO_DEVICE"},           {101, "CUDA_ERROR_INVALID_DEVICE"},
        {200, "CUDA_ERROR_INVALID_IMAGE"},       {209, "CUDA_ERROR_NO_BINARY_FOR_GPU"},
        {214, "CUDA_ERROR_ECC_UNCORRECTABLE"},   {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"},
        {500, "CUDA_ERROR_NOT_FOUND"},           {700, "CUDA_ERROR_ILLEGAL_ADDRESS"},
        {999, "CUDA_ERROR_UNKNOWN"}};
    const auto it = names.find(error);
    if (it == names.end()) return 1;
    *name = it->second;
    return 0;
}

int cuGetErrorString(int error, const char** text) {
    const char* name = nullptr;
    if (cuGetErrorName(error, &name) != 0) return 1;
    *text = "the fake driver's text for this error";
    return 0;
}

}  // extern "C"
