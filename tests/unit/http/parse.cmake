# The HTTP/1.x parsers (src/http/parse.c), included from tests/CMakeLists.txt:
#   parse.BACKEND  tests/unit/http/test_parse.c: tables of good and bad heads and
#                  chunked bodies, split feeding, a deterministic fuzz
#   http_diff      tests/unit/http/test_http_diff.py: the corpus (unit/http/corpus/)
#                  and mutations of it through parse_dump and through Node's own
#                  HTTP server (http_oracle.js, llhttp); any disagreement not on
#                  the test's allow-list fails it (docs/http-parsing.md lists them)
sea_add_test(unit/http parse UNIT)

# What sea's parsers make of a byte stream, as JSON lines (no reactor).
add_executable(parse_dump ${CMAKE_CURRENT_LIST_DIR}/parse_dump.c)
target_link_libraries(parse_dump PRIVATE sea)
target_include_directories(parse_dump PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(parse_dump PRIVATE _GNU_SOURCE)
set_target_properties(parse_dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# Node is installed by the set-up; without it the test fails and says so.
find_program(SEA_NODE NAMES node nodejs)
add_test(NAME http_diff
         COMMAND Python3::Interpreter ${CMAKE_CURRENT_LIST_DIR}/test_http_diff.py
                 --dump $<TARGET_FILE:parse_dump> --node ${SEA_NODE}
                 --oracle ${CMAKE_CURRENT_LIST_DIR}/http_oracle.js --corpus ${CMAKE_CURRENT_LIST_DIR}/corpus)
set_tests_properties(http_diff PROPERTIES TIMEOUT 120)
