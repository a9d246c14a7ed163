# Installs the built AetherFlow into a scratch prefix, then configures, builds and runs the
# consumer project against it with find_package(aetherflow).
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/installed_package.cmake")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")

install_build_tree("${BUILD_DIR}" "${prefix}")
configure_against_install("${SOURCE_DIR}" "${build}" "${prefix}")
run_step("${CMAKE_COMMAND}" --build "${build}")
run_step("${build}/consumer")
if(EXISTS "${build}/mpi_consumer")
  run_step("${build}/mpi_consumer")
endif()
