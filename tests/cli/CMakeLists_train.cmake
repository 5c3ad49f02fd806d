# CLI tests of `chassis train` and `chassis eval` (shell scripts; each takes the chassis binary and
# the source root). Included from tests/CMakeLists.txt.
foreach(t train_braking train_tasks train_errors)
  add_test(NAME cli/${t}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${t}.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli/${t} PROPERTIES TIMEOUT 120)
endforeach()
