# crs_module(NAME DIR [POSTGRES] [DEPS ...] [TEST_DEPS ...]): a static library
# from DIR/*.cc (tests excluded) and, when DIR holds *_test.cc files, a
# GoogleTest binary NAME_test registered with ctest (POSTGRES: its tests use
# the run's PostgreSQL test server). Globbing keeps new files free of CMake
# edits; CONFIGURE_DEPENDS re-globs on every build.
function(crs_module name dir)
  cmake_parse_arguments(M "POSTGRES" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cc)
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  if(NOT srcs)
    # A layer with no code yet still links, so others can depend on it.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${M_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${M_DEPS})
  if(CRS_BUILD_TESTS AND tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE ${name} ${M_TEST_DEPS} GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_test PRIVATE CRS_SHARED_DIR="${CRS_SHARED_DIR}"
                               CRS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    set(pg_props)
    if(M_POSTGRES)
      set(pg_props ${CRS_POSTGRES_TEST_PROPERTIES})
    endif()
    gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300 ${pg_props})
  endif()
endfunction()

# crs_embed(TARGET FILE SYMBOL): links FILE's bytes into TARGET as
#   extern "C" const char SYMBOL[]; extern "C" const unsigned long SYMBOL_size;
# via the assembler's .incbin, so data files need no code generation.
function(crs_embed target file symbol)
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "crs_embed: ${file} is missing")
  endif()
  set(asm ${CMAKE_CURRENT_BINARY_DIR}/${symbol}.S)
  file(WRITE ${asm}
    "    .section .rodata\n"
    "    .global ${symbol}\n"
    "    .global ${symbol}_size\n"
    "    .balign 16\n"
    "${symbol}:\n"
    "    .incbin \"${file}\"\n"
    "${symbol}_end:\n"
    "    .byte 0\n"
    "    .balign 8\n"
    "${symbol}_size:\n"
    "    .quad ${symbol}_end - ${symbol}\n"
    "    .section .note.GNU-stack,\"\",@progbits\n")
  set_source_files_properties(${asm} PROPERTIES OBJECT_DEPENDS ${file})
  target_sources(${target} PRIVATE ${asm})
endfunction()
