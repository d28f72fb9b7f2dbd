# The Debian package: `cpack -G DEB` in the build folder writes git-model_<version>-1_<arch>.deb
# with everything `cmake --install` puts in place (programs, hook shims, man pages, completion
# files) under /usr. Its shared-library dependencies are computed by dpkg-shlibdeps (package
# dpkg-dev) from the binaries themselves; git is a dependency, the container engine and Git LFS
# are recommendations (only `git model env` and LFS repositories need them).
# tests/e2e/t-package.sh installs the package with apt in a minimal Debian root and uses it.
# Its postinst (debian/postinst) prepares the machine's GPU lease book.

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "git-model")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "git-model")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "one model, one branch, one worktree: parallel ML experiments in git")
set(CPACK_PACKAGE_DESCRIPTION
    "git-model is a Git extension suite for machine-learning teams who develop several models at once\n\
on shared GPU servers: `git model start` gives each model its own branch and worktree, `git model env`\n\
one pinned container with its own GPUs, `git model bench` proves the GPUs, and hooks keep the\n\
team's rules on every commit and push.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "git-model maintainers <git-model@example.com>")

set(CPACK_DEBIAN_PACKAGE_NAME "git-model")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION "vcs")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian's git carries the epoch 1 (1:2.39.5-...): without it the bound would be meaningless.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "git (>= 1:2.25)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "podman, catatonit, git-lfs, man-db")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, docker.io")
# After installing, root's GPU lease book is prepared (`git model gpus init`), shared by every user.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_LIST_DIR}/debian/postinst")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
