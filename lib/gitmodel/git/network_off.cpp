// libgit2 1.5, as Debian builds it, sets up all its transports inside
// git_libgit2_init(), whether a program uses them or not:
//   - TLS (mbedtls): parses the whole system CA bundle (about 11 ms) and seeds
//     an entropy pool with HAVEGE (about 1.1 million instructions);
//   - SSH (libssh2 over OpenSSL): initialises OpenSSL, loading its error
//     strings and engines (about 1 million instructions).
// Every git-model command and every hook paid for that before doing any work,
// which alone was a third of the pre-push hook's 5 ms budget. The suite never
// uses these transports (push and fetch run the git program), so:
//   - with a static libgit2 (cmake/Libgit2.cmake) the linker's --wrap swaps
//     the two set-up functions for no-ops, and the functions that would create
//     a TLS stream or an SSH transport for ones that refuse with a message
//     naming the reason, so that nothing can ever run on the skipped set-up;
//   - with a shared libgit2 those functions are internal to it and cannot be
//     replaced; there, only the CA bundle loader (an mbedtls function that
//     libgit2 calls across a library boundary) is interposed with a no-op, as
//     an executable's symbols come first in the dynamic linker's lookup order.
//     Without certificates, HTTPS through libgit2 would fail to verify; the
//     suite never does it.
// If neither takes (another TLS backend), nothing changes but the time.

#include "gitmodel/git/network_off.hpp"

#include "gitmodel/git/handle.hpp"

#include <git2.h>

#include <string>

namespace {

constexpr const char* refusal =
    "git-model does not use libgit2's network transports (its TLS and SSH set-up is skipped at start-up); "
    "run the git program for network operations";

// Sets libgit2's error to the refusal and empties the out-parameter of the function replaced.
int refuse(void** out) {
    if (out) *out = nullptr;
    git_error_set_str(GIT_ERROR_NET, refusal);
    return -1;
}

}  // namespace

extern "C" {

#if GM_LIBGIT2_STATIC

int __wrap_git_mbedtls_stream_global_init(void) { return 0; }
int __wrap_git_transport_ssh_global_init(void) { return 0; }

// Same signatures as libgit2 1.5's (git_stream**, host, port) and (git_stream**, git_stream*, host).
int __wrap_git_mbedtls_stream_new(void** out, const char*, const char*) { return refuse(out); }
int __wrap_git_mbedtls_stream_wrap(void** out, void*, const char*) { return refuse(out); }

// Every remote URL (http, https, ssh, git) gets a smart transport, (git_transport**, git_remote* owner,
// void* param): refusing here, before libgit2 allocates anything, leaks nothing (refusing in a subtransport
// below leaves libgit2's half-made transport behind).
int __wrap_git_transport_smart(void** out, void*, void*) { return refuse(out); }

// Unreachable behind that refusal, the three subtransports, (git_smart_subtransport**, git_transport*
// owner, void* param), are replaced too, so that the linker leaves out libssh2 and the OpenSSL that only SSH
// needed; likewise HTTP Negotiate authentication, (git_http_auth_context**, const git_net_url*), which the
// HTTP client (still linked for other reasons) references, and with it GSSAPI. Each refuses if ever reached.
int __wrap_git_smart_subtransport_http(void** out, void*, void*) { return refuse(out); }
int __wrap_git_smart_subtransport_git(void** out, void*, void*) { return refuse(out); }
int __wrap_git_smart_subtransport_ssh(void** out, void*, void*) { return refuse(out); }
int __wrap_git_http_auth_negotiate(void** out, const void*) { return refuse(out); }

#else

// Same signature as mbedtls 2.28's loaders: (mbedtls_x509_crt*, const char*).
int mbedtls_x509_crt_parse_file(void* chain, const char* path) {
    (void)chain;
    (void)path;
    return 0;
}

int mbedtls_x509_crt_parse_path(void* chain, const char* path) {
    (void)chain;
    (void)path;
    return 0;
}

#endif

}  // extern "C"

namespace gm::git {

void keep_libgit2_network_off() {}

bool libgit2_network_is_off() {
#if GM_LIBGIT2_STATIC
    return true;
#else
    return false;
#endif
}

std::string libgit2_connect_error(std::string_view url) {
    git_remote* remote = nullptr;
    if (git_remote_create_detached(&remote, std::string(url).c_str()) < 0) {
        const git_error* error = git_error_last();
        return error && error->message ? error->message : "cannot create the remote";
    }
    Handle<git_remote, git_remote_free> owner(remote);
    git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
    if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr) == 0) return "";
    const git_error* error = git_error_last();
    return error && error->message ? error->message : "connection failed";
}

}  // namespace gm::git
