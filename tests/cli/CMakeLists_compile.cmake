# CLI test of `chassis compile-net` (a shell script taking the chassis binary and the source root).
# Included from tests/CMakeLists.txt.
add_test(NAME cli/compile_net
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compile_net.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compile_net PROPERTIES TIMEOUT 120)
