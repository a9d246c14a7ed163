# Warnings for the project's own targets (not imposed on users of the installed library).
function(aetherflow_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    $<$<BOOL:${AETHERFLOW_WARNINGS_AS_ERRORS}>:-Werror>)
endfunction()
