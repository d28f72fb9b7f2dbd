# How the suite links libgit2. By default statically, from Debian's own
# libgit2-dev archives: a dynamic libgit2 drags in some 20 shared libraries
# (OpenSSL, Kerberos, libssh2, mbedtls, ...) whose relocation costs about
# 3.5 ms at every start, which the pre-push hook's 5 ms budget cannot afford.
# libgit2's network transports are replaced at link time (lib/CMakeLists.txt,
# lib/gitmodel/git/network_off.cpp): the suite runs the git program for every
# network operation. That also leaves GSSAPI, the one dependency Debian ships
# no static archive of, out of the link. libstdc++ and libgcc are linked
# statically too (its 2,000 symbol relocations were a millisecond of every
# start), except in sanitizer builds. The trade-off: a security update of
# libgit2 or of the C++ runtime needs a rebuild of the suite.
# -DGM_STATIC_LINK=OFF links the shared libraries instead (GM_STATIC_LIBGIT2,
# its old name, still works; see CMakeLists.txt).

add_library(gm_libgit2 INTERFACE)
target_include_directories(gm_libgit2 INTERFACE ${LIBGIT2_INCLUDE_DIRS})

set(GM_LIBGIT2_IS_STATIC OFF)
if(GM_STATIC_LINK)
  set(static_paths)
  set(missing)
  foreach(name git2 mbedtls mbedx509 mbedcrypto http_parser ssh2 pcre2-8 z crypto)
    find_library(GM_STATIC_LIB_${name} NAMES lib${name}.a)
    if(GM_STATIC_LIB_${name})
      list(APPEND static_paths ${GM_STATIC_LIB_${name}})
    else()
      list(APPEND missing lib${name}.a)
    endif()
  endforeach()
  if(missing)
    message(WARNING "GM_STATIC_LINK: missing ${missing}; linking libgit2 dynamically")
  else()
    set(GM_LIBGIT2_IS_STATIC ON)
    find_package(Threads REQUIRED)
    target_link_libraries(gm_libgit2 INTERFACE ${static_paths} Threads::Threads ${CMAKE_DL_LIBS} rt)
  endif()
endif()
if(GM_STATIC_LINK AND NOT GM_SANITIZE)
  add_link_options($<$<LINK_LANGUAGE:CXX>:-static-libstdc++> $<$<LINK_LANGUAGE:CXX>:-static-libgcc>)
endif()
if(NOT GM_LIBGIT2_IS_STATIC)
  target_link_libraries(gm_libgit2 INTERFACE PkgConfig::LIBGIT2)
endif()
message(STATUS "libgit2: ${LIBGIT2_VERSION}, linked ${GM_LIBGIT2_IS_STATIC}")

# yaml-cpp the same way: its archive where Debian ships one (libyaml-cpp-dev does).
add_library(gm_yaml_cpp INTERFACE)
find_library(GM_STATIC_LIB_yaml_cpp NAMES libyaml-cpp.a)
if(GM_STATIC_LINK AND GM_STATIC_LIB_yaml_cpp)
  get_target_property(gm_yaml_includes yaml-cpp INTERFACE_INCLUDE_DIRECTORIES)
  if(gm_yaml_includes)
    target_include_directories(gm_yaml_cpp INTERFACE ${gm_yaml_includes})
  endif()
  target_link_libraries(gm_yaml_cpp INTERFACE ${GM_STATIC_LIB_yaml_cpp})
else()
  target_link_libraries(gm_yaml_cpp INTERFACE yaml-cpp)
endif()
