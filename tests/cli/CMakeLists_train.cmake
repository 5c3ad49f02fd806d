# CLI tests of `chassis train` and `chassis eval` (shell scripts; each takes the chassis binary and
# the source root). Included from tests/CMakeLists.txt.
foreach(t train_braking train_tasks train_errors)
  add_test(NAME cli/${t}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${t}.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli/${t} PROPERTIES TIMEOUT 120)
endforeach()

# Unit tests of tools/task_dataset (datasets from .chs tasks): tools/ is an executable, so the
# file is compiled into this test directly.
add_executable(test_train_task ${CMAKE_CURRENT_LIST_DIR}/train_task_dataset_test.cpp
  ${CMAKE_SOURCE_DIR}/tools/task_dataset.cpp)
target_include_directories(test_train_task PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(test_train_task PRIVATE chassis_catch_main chassis_symbolic chassis_neural
  chassis_spec CLI11::CLI11 Eigen3::Eigen)
catch_discover_tests(test_train_task TEST_PREFIX "cli/" PROPERTIES TIMEOUT 120)
