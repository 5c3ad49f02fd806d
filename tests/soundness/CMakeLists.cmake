# The differential soundness campaign (tests/soundness/README.md): a separate executable, not a
# Catch2 test; ctest runs a short slice of it, scripts/soundness N [SEED] a long one.
add_executable(soundness_campaign ${CMAKE_CURRENT_LIST_DIR}/soundness_campaign.cpp)
target_link_libraries(soundness_campaign PRIVATE chassis_verifier chassis_neural chassis_symbolic
  chassis_spec PkgConfig::Z3)
add_test(NAME soundness/campaign
  COMMAND soundness_campaign 200 1 --out ${CMAKE_BINARY_DIR}/soundness-repro)
set_tests_properties(soundness/campaign PROPERTIES TIMEOUT 600)
# The oracles' self-check: with every decided verdict inverted, the campaign must catch them.
add_test(NAME soundness/oracles-catch-inverted-verdicts
  COMMAND soundness_campaign 90 2 --flip-verdicts --out ${CMAKE_BINARY_DIR}/soundness-flip-repro)
