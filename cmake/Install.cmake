# `cmake --install` puts the headers under include/aetherflow/{flow,...}, the library, and a
# package config so that another project can find_package(aetherflow) and link
# aetherflow::aetherflow.
include(CMakePackageConfigHelpers)

install(TARGETS aetherflow EXPORT aetherflowTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir flow contexts nodes)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aetherflow/${dir}
    FILES_MATCHING PATTERN "*.hpp" PATTERN "mpi" EXCLUDE)
endforeach()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/aetherflow)
install(EXPORT aetherflowTargets NAMESPACE aetherflow:: DESTINATION ${config_dir})
# The mpi component: find_package(aetherflow COMPONENTS mpi), aetherflow::mpi.
if(AETHERFLOW_MPI)
  install(TARGETS aetherflow_mpi EXPORT aetherflowMpiTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY flow/mpi/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aetherflow/flow/mpi
    FILES_MATCHING PATTERN "*.hpp")
  install(EXPORT aetherflowMpiTargets NAMESPACE aetherflow:: DESTINATION ${config_dir})
endif()
configure_package_config_file(cmake/aetherflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/aetherflowConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/aetherflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/aetherflowConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/aetherflowConfigVersion.cmake DESTINATION ${config_dir})
