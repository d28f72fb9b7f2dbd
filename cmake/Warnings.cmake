# Warnings for every target of ours; -Werror only where GM_WERROR asks for it
# (developer and CI builds), so that a newer compiler never breaks a user's build.
add_library(gm_warnings INTERFACE)
target_compile_options(gm_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GM_WERROR}>>:-Werror>)
