#pragma once
// Keeps libgit2 from loading the system's TLS trust store at start-up (see the
// .cpp for why that is safe and what it saves).

namespace gm::git {

// Referenced by Library so that the static library's member holding the
// interposed mbedtls loaders is always linked into the executables.
void skip_tls_trust_store();

}  // namespace gm::git
