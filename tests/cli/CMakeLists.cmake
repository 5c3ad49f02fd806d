# CLI tests of the `chassis` subcommands (shell scripts; each takes the chassis binary and
# the source root). Included from tests/CMakeLists.txt.
foreach(t train_braking train_tasks train_errors train_metadata)
  add_test(NAME cli/${t}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${t}.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli/${t} PROPERTIES TIMEOUT 120)
endforeach()

# `chassis compare` and `chassis extract`: errors, nothing half-written, the artefacts written.
add_test(NAME cli/compare_extract
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compare_extract.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compare_extract PROPERTIES TIMEOUT 300)

# `chassis compile-net`: summary, ONNX, ground-truth circuit JSON, errors.
add_test(NAME cli/compile_net
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compile_net.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compile_net PROPERTIES TIMEOUT 120)

# `chassis infer --output` (CmdStan CSV per chain) and `chassis summary` reading it back.
add_test(NAME cli/stan_csv
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/stan_csv.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/stan_csv PROPERTIES TIMEOUT 120)
# The same CSV read by rstan's read_stan_csv (skipped without R's rstan): means and sds agree.
add_test(NAME cli/stan_csv_rstan
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/stan_csv_rstan.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/stan_csv_rstan PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)

# `chassis compile`: object + header linked into a C program, compared with `chassis run`; errors.
add_test(NAME cli/compile_object
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compile_object.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compile_object PROPERTIES TIMEOUT 120)
# `chassis compile` of random modules: object + header + runtime archive linked into a C program,
# compared with `chassis run --seed` at several seeds; errors.
add_test(NAME cli/compile_random_object
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compile_random_object.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compile_random_object PROPERTIES TIMEOUT 300)
# `chassis compile`: the batched entry of networks and modules, row for row the one-row function's.
add_test(NAME cli/compile_batch
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/compile_batch.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/compile_batch PROPERTIES TIMEOUT 120)

# `chassis infer --method nuts` settings (--adapt-delta, --max-depth, --init) and sampler report.
add_test(NAME cli/nuts_options
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/nuts_options.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/nuts_options PROPERTIES TIMEOUT 120)

# `chassis infer --method nuts`: a located warning at each condition() the model reaches.
add_test(NAME cli/nuts_condition_warning
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/nuts_condition_warning.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/nuts_condition_warning PROPERTIES TIMEOUT 120)

# `cmake --install` into a scratch prefix, examples/embed built against it with
# find_package(chassis), its values compared with the installed command's.
add_test(NAME cli/install_package
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/install_package.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${CMAKE_COMMAND})
set_tests_properties(cli/install_package PROPERTIES TIMEOUT 300)

# Stopping long runs: SIGINT/SIGTERM to verify (partial table, 130/143), --time-limit (124) and
# --memory (5) on verify, vnnlib, infer, train; no result file from a stopped or failed write.
add_test(NAME cli/run_limits
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_limits.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/run_limits PROPERTIES TIMEOUT 300)

# Several processes (tools/mpi_world.h): vnnlib campaigns (one process, then mpirun -np 2 and 3:
# same verdicts, resumed runs keep finished rows), infer's chains on ranks (byte-identical to
# one process) and verify --all (the same table). Exit 77 (skipped) when mpirun is absent or chassis has no MPI built in.
# One instance's search shared by the ranks (tools/mpi_search.h): verdicts as one process, a killed
# rank gives unknown, a sat found on a rank other than 0 stops the others, workers steal from
# each other (peer to peer) and every domain moved is accounted for; the work-stealing
# model bench/distributed/simulate on hand-made trees; verify FILE sharing each network
# property's search (the one-process table; a killed rank gives unknown).
foreach(t mpi_campaign mpi_chains mpi_verify_all mpi_search mpi_search_faults mpi_search_model
    mpi_search_late_sat mpi_search_peer_steals mpi_verify_shared)
  add_test(NAME cli/${t}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${t}.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli/${t} PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
endforeach()
set_tests_properties(cli/mpi_verify_shared PROPERTIES TIMEOUT 600) # three runs of a 20-60 s file

# `chassis infer --metric dense` (NUTS) and `--smc-moves/--smc-lag` (SMC).
add_test(NAME cli/infer_metric_smc
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_metric_smc.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/infer_metric_smc PROPERTIES TIMEOUT 120)
# Counterexamples that round-trip: verify --json as numbers, `run --replay` on them, the JSON
# envelope, errors as JSON.
add_test(NAME cli/counterexample_replay
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/counterexample_replay.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/counterexample_replay PROPERTIES TIMEOUT 120)

# One JSON envelope for check/verify/vnnlib --json, errors as JSON, vnnlib on .nnet; one meaning
# per flag (negative counts refused, deprecated spellings warned, train without -o refused); the
# call graph as DOT, the man page and bash completion generated from the CLI definition.
foreach(t json_reports consistent_flags cli_docs)
  add_test(NAME cli/${t}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${t}.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli/${t} PROPERTIES TIMEOUT 180)
endforeach()

# `chassis infer --plot`: the self-contained trace and density page.
add_test(NAME cli/infer_plot
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_plot.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/infer_plot PROPERTIES TIMEOUT 120)

# `chassis regions`: cells of a module's and its compiled network's decision regions checked
# against the module's formula at every cell centre; metadata names, the point overlay, errors.
add_test(NAME cli/regions
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/regions.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/regions PROPERTIES TIMEOUT 120)

# `chassis verify --property A --property B` and `--only-file` (imported properties left out).
add_test(NAME cli/verify_selection
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/verify_selection.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/verify_selection PROPERTIES TIMEOUT 120)

# `chassis verify` on a terminal: rows printed as decided, columns fixed up front and aligned.
add_test(NAME cli/verify_table_live
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/verify_table_live.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/verify_table_live PROPERTIES TIMEOUT 120)

# --quiet: infer and train print nothing on stderr but errors; the results are unchanged.
add_test(NAME cli/quiet_runs
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/quiet_runs.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/quiet_runs PROPERTIES TIMEOUT 120)

# `chassis infer --query NAME` with NAME an array of random choices: every element, each method.
add_test(NAME cli/query_choice_array
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/query_choice_array.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/query_choice_array PROPERTIES TIMEOUT 120)

# Constrained arrays (Flat(ordered), Flat(simplex)): verified over their support; refused by the
# methods that draw from the prior.
add_test(NAME cli/constrained_arrays
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/constrained_arrays.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/constrained_arrays PROPERTIES TIMEOUT 120)

# Random modules on the JIT: `infer --method mh` and `run` print the interpreter's output.
add_test(NAME cli/backend_jit_random
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/backend_jit_random.sh $<TARGET_FILE:chassis> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli/backend_jit_random PROPERTIES TIMEOUT 120)
