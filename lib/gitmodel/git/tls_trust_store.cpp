// libgit2 as Debian builds it (with mbedtls) parses the whole system CA bundle
// inside git_libgit2_init(): about 11 ms, paid by every git-model command and
// every hook, before any work. The suite never uses libgit2's network
// transports (push and fetch run the git program, which has its own TLS), so
// the trust store is never needed. Defining mbedtls's loader here makes the
// dynamic linker bind libgit2's call to this no-op (an executable's symbols
// come first in the lookup order); libgit2 then starts without certificates,
// which only matters for HTTPS through libgit2, which the suite never does.
// With a static libgit2 (cmake/Libgit2.cmake) the same two functions are
// swapped in with the linker's --wrap instead, since a definition of our own
// would clash with mbedtls's archive. If neither takes (another TLS backend),
// nothing changes but the time.

#include "gitmodel/git/tls_trust_store.hpp"

#if GM_LIBGIT2_STATIC
#define GM_TRUST_STORE_LOADER(name) __wrap_##name
#else
#define GM_TRUST_STORE_LOADER(name) name
#endif

extern "C" {

// Same signature as mbedtls 2.28's loader: (mbedtls_x509_crt*, const char*).
int GM_TRUST_STORE_LOADER(mbedtls_x509_crt_parse_file)(void* chain, const char* path) {
    (void)chain;
    (void)path;
    return 0;
}

// The directory form, for a CA location that is a folder.
int GM_TRUST_STORE_LOADER(mbedtls_x509_crt_parse_path)(void* chain, const char* path) {
    (void)chain;
    (void)path;
    return 0;
}

}  // extern "C"

namespace gm::git {

void skip_tls_trust_store() {}

}  // namespace gm::git
