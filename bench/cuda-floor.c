/* The floor under any CUDA program's start-up, for bench/gpu-bench.sh to time beside
 * git-model-bench --quick: load libcuda.so.1, cuInit, retain device 0's primary context, make it
 * current, exit. No kernel, no memory: whatever git-model-bench takes beyond this is its own.
 * Exit: 0 done, 1 a driver call failed, 3 no driver library.
 * Built by gpu-bench.sh with the machine's C compiler: cc -O2 cuda-floor.c -ldl */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

typedef int (*init_fn)(unsigned);
typedef int (*device_get_fn)(int*, int);
typedef int (*retain_fn)(void**, int);
typedef int (*set_current_fn)(void*);

int main(void) {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "cuda-floor: %s\n", dlerror());
        return 3;
    }
    init_fn cu_init = (init_fn)dlsym(lib, "cuInit");
    device_get_fn cu_device_get = (device_get_fn)dlsym(lib, "cuDeviceGet");
    retain_fn cu_retain = (retain_fn)dlsym(lib, "cuDevicePrimaryCtxRetain");
    set_current_fn cu_set_current = (set_current_fn)dlsym(lib, "cuCtxSetCurrent");
    int device = 0;
    void* context = NULL;
    if (!cu_init || !cu_device_get || !cu_retain || !cu_set_current || cu_init(0) != 0 ||
        cu_device_get(&device, 0) != 0 || cu_retain(&context, device) != 0 || cu_set_current(context) != 0) {
        fprintf(stderr, "cuda-floor: a driver call failed\n");
        return 1;
    }
    /* Like git-model-bench: the context goes with the process. */
    _exit(0);
}
