// The backend of a build without the CUDA toolkit: the binary still exists (so `git model bench`
// is never "command not found") and says why it cannot test GPUs, with exit code 3.

#include "make_backend.hpp"

namespace gm::gpu {

namespace {

// Answers every question with "no CUDA support"; run_bench stops at has_cuda().
class NoCudaBackend final : public Backend {
public:
    bool has_cuda() const override { return false; }
    CompiledTargets targets() const override { return {}; }
    int linked_runtime_version() const override { return 0; }
    InitInfo init() override { return InitInfo{unsupported("cudaGetDeviceCount"), 0, 0, 0}; }
    CudaStatus describe(int, DeviceInfo&) override { return unsupported("cudaGetDeviceProperties"); }
    CudaStatus open(int, std::size_t, std::uint64_t&) override { return unsupported("cudaSetDevice"); }
    CudaStatus run_stream(const StreamPlan&, StreamTimes&) override { return unsupported("triad"); }
    CudaStatus read_stream(StreamOutput, const FloatSink&) override { return unsupported("cudaMemcpy"); }
    CudaStatus run_fma(const FmaPlan&, FmaTimes&) override { return unsupported("fma"); }
    CudaStatus read_fma(const FloatSink&) override { return unsupported("cudaMemcpy"); }
    CudaStatus run_transfer(const TransferPlan&, const FloatFill&, TransferTimes&) override {
        return unsupported("cudaMemcpy");
    }
    CudaStatus read_transfer(const FloatSink&) override { return unsupported("cudaMemcpy"); }
    CudaStatus close() override { return {}; }

private:
    // The status every call returns.
    static CudaStatus unsupported(const char* call) {
        return CudaStatus{cuda_error::unknown, "noCudaSupport", "built without CUDA support", call};
    }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<NoCudaBackend>(); }

}  // namespace gm::gpu
