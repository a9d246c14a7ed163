# What the scripts that check the installed package share (run with cmake -P): install the
# build tree into a scratch prefix, then configure a separate project against it with
# find_package(aetherflow), compiled as the build tree is (CXX_COMPILER, CXX_FLAGS, BUILD_TYPE).
# Used by tests/consumer/check_install.cmake and tests/docs/check_doc_programs.cmake.

# Runs a command and stops the script with its output if it fails.
function(run_step)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

function(install_build_tree build_dir prefix)
  run_step("${CMAKE_COMMAND}" --install "${build_dir}" --prefix "${prefix}")
endfunction()

# Configures the project in source_dir into binary_dir, finding AetherFlow in prefix; the
# arguments after prefix are passed to the configure step.
function(configure_against_install source_dir binary_dir prefix)
  run_step("${CMAKE_COMMAND}" -S "${source_dir}" -B "${binary_dir}" -G Ninja
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" ${ARGN})
endfunction()
