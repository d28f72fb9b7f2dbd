// The fat binary, pulled into the executable by the assembler (.incbin) at the path CMake
// passes in GM_KERNELS_FATBIN, with the facts about it CMake knows (architectures, compiler).
// The section is .nv_fatbin, where nvcc puts its own, so `cuobjdump git-model-bench` lists it.

#include "kernels/embedded.hpp"

#ifdef GM_KERNELS_FATBIN
extern "C" const unsigned char gm_kernels_fatbin[];      // the first byte
extern "C" const unsigned char gm_kernels_fatbin_end[];  // one past the last

// 8-byte aligned, as cuModuleLoadData wants a fat binary.
__asm__(".pushsection .nv_fatbin, \"a\"\n"
        ".balign 8\n"
        ".globl gm_kernels_fatbin\n"
        "gm_kernels_fatbin:\n"
        ".incbin \"" GM_KERNELS_FATBIN "\"\n"
        ".globl gm_kernels_fatbin_end\n"
        "gm_kernels_fatbin_end:\n"
        ".popsection\n");
#endif

namespace gm::gpu {

KernelImage embedded_kernels() {
    KernelImage image;
#ifdef GM_KERNELS_FATBIN
    image.data = gm_kernels_fatbin;
    image.size = static_cast<std::size_t>(gm_kernels_fatbin_end - gm_kernels_fatbin);
    image.targets = CompiledTargets{split_architectures(GM_KERNELS_SASS), split_architectures(GM_KERNELS_PTX)};
    image.cuda_version = GM_KERNELS_CUDA_VERSION;
    image.compiler = GM_KERNELS_COMPILER;
#endif
    return image;
}

}  // namespace gm::gpu
