#pragma once
// Owners of CUDA runtime handles (device and pinned buffers, streams, events): each frees its
// handle exactly once, whatever path leaves the scope. Failed calls throw CudaFailure, which the
// backend turns into a gm::gpu::CudaStatus at its boundary. Included by the .cu files only.

#include <cuda_runtime.h>

#include <cstddef>
#include <exception>
#include <utility>

namespace gm::gpu::cuda {

// A failed CUDA call, carrying CUDA's error and the call's name to the backend's boundary.
class CudaFailure : public std::exception {
public:
    // Records error, raised by the call named `call` (a string literal).
    CudaFailure(cudaError_t error, const char* call) : error_(error), call_(call) {}
    // CUDA's error code.
    cudaError_t error() const noexcept { return error_; }
    // The failed call, e.g. "cudaMalloc".
    const char* call() const noexcept { return call_; }
    // CUDA's text for the error.
    const char* what() const noexcept override { return cudaGetErrorString(error_); }

private:
    cudaError_t error_;  // see error()
    const char* call_;   // see call()
};

// Throws CudaFailure unless status is cudaSuccess: the one way the backend checks calls.
inline void check(cudaError_t status, const char* call) {
    if (status != cudaSuccess) throw CudaFailure(status, call);
}

// Device memory from cudaMalloc.
class DeviceBuffer {
public:
    // An empty owner, for members filled later.
    DeviceBuffer() = default;
    // Allocates bytes of device memory.
    explicit DeviceBuffer(std::size_t bytes) {
        check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
        bytes_ = bytes;
    }
    // Frees the memory (errors ignored: a destructor cannot report them, and a broken context
    // reports them elsewhere).
    ~DeviceBuffer() { reset(); }
    // Moves ownership.
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
    // Moves ownership, freeing what this held.
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        if (this != &other) {
            reset();
            ptr_ = std::exchange(other.ptr_, nullptr);
            bytes_ = std::exchange(other.bytes_, 0);
        }
        return *this;
    }
    // Not copyable: one owner frees the memory once.
    DeviceBuffer(const DeviceBuffer&) = delete;
    // See the copy constructor.
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // The memory as an array of T.
    template <class T>
    T* as() const { return static_cast<T*>(ptr_); }
    // Its size in bytes.
    std::size_t bytes() const { return bytes_; }
    // Frees the memory now.
    void reset() {
        if (ptr_) cudaFree(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
    }

private:
    void* ptr_ = nullptr;    // the memory; null when empty
    std::size_t bytes_ = 0;  // its size
};

// Page-locked host memory from cudaHostAlloc: DMA reaches it directly, so copies run at full
// PCIe/NVLink speed and can be asynchronous.
class PinnedBuffer {
public:
    // An empty owner.
    PinnedBuffer() = default;
    // Allocates bytes of pinned host memory.
    explicit PinnedBuffer(std::size_t bytes) {
        check(cudaHostAlloc(&ptr_, bytes, cudaHostAllocDefault), "cudaHostAlloc");
        bytes_ = bytes;
    }
    // Frees the memory.
    ~PinnedBuffer() { reset(); }
    // Moves ownership.
    PinnedBuffer(PinnedBuffer&& other) noexcept
        : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
    // Moves ownership, freeing what this held.
    PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
        if (this != &other) {
            reset();
            ptr_ = std::exchange(other.ptr_, nullptr);
            bytes_ = std::exchange(other.bytes_, 0);
        }
        return *this;
    }
    // Not copyable: one owner frees the memory once.
    PinnedBuffer(const PinnedBuffer&) = delete;
    // See the copy constructor.
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;

    // The memory as an array of T.
    template <class T>
    T* as() const { return static_cast<T*>(ptr_); }
    // Its size in bytes.
    std::size_t bytes() const { return bytes_; }
    // Frees the memory now.
    void reset() {
        if (ptr_) cudaFreeHost(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
    }

private:
    void* ptr_ = nullptr;    // the memory; null when empty
    std::size_t bytes_ = 0;  // its size
};

// A non-blocking stream, so the bench never synchronises with the legacy default stream.
class Stream {
public:
    // Creates the stream on the current device.
    Stream() { check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }
    // Destroys it.
    ~Stream() {
        if (stream_) cudaStreamDestroy(stream_);
    }
    // Not copyable: one owner destroys the stream once.
    Stream(const Stream&) = delete;
    // See the copy constructor.
    Stream& operator=(const Stream&) = delete;

    // The handle, for launches and copies.
    cudaStream_t get() const { return stream_; }

private:
    cudaStream_t stream_ = nullptr;  // the handle
};

// A timing event: the GPU stamps it when the stream reaches it, so kernel times exclude host overhead.
class Event {
public:
    // Creates the event (with timing).
    Event() { check(cudaEventCreate(&event_), "cudaEventCreate"); }
    // Destroys it.
    ~Event() {
        if (event_) cudaEventDestroy(event_);
    }
    // Moves ownership, so events can live in vectors.
    Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
    // Not assignable or copyable: one owner destroys the event once.
    Event& operator=(Event&&) = delete;
    // See the move assignment.
    Event(const Event&) = delete;
    // See the move assignment.
    Event& operator=(const Event&) = delete;

    // The handle.
    cudaEvent_t get() const { return event_; }

private:
    cudaEvent_t event_ = nullptr;  // the handle
};

}  // namespace gm::gpu::cuda
