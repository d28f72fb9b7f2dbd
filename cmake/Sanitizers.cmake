# ASan + UBSan for the whole build when GM_SANITIZE is ON; CI runs the tests
# under both. Failures abort so that a test cannot pass over a report.
# GM_SANITIZE=thread builds with ThreadSanitizer instead: CI builds only the
# gm_tsan_tests target then (tests/CMakeLists.txt), the code that runs threads.
if(GM_SANITIZE STREQUAL "thread")
  # (-Wno-tsan: Boost.Asio's fences, in proc::run's single-threaded event loop, are what GCC warns about)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=thread>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-Wno-tsan>)
  add_link_options(-fsanitize=thread)
elseif(GM_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
  # Not position-independent: the end-to-end tests start these executables thousands of times,
  # and as PIEs each start first applied millions of relative relocations (174 MB of them, the
  # sanitizers' data on every global and check): 330 ms a start, 140 ms without (git-model --version).
  add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-no-pie>)
endif()
