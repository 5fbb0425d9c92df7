# sea-httpd and the HTTP server library, included from apps/CMakeLists.txt:
#   httpd.features.BACKEND.cN  tests/apps/test_httpd.py: tests/programs/http_helper.c (a route per
#                              feature of sea/http.h) and sea-httpd driven by curl, http.client and
#                              raw sockets: keep-alive, pipelining, chunked both ways, 100-continue,
#                              routes, hooks, errors, limits, timeouts, smuggling, static files
#   http2.features.BACKEND.cN  tests/apps/test_http2.py: HTTP/2 (h2 by ALPN, h2c by prior knowledge) in
#                              http_helper and sea-httpd: curl, nghttp, h2load, and frames made by hand
#                              for concurrency, header limits, HPACK bombs, floods, rapid reset, timeouts
#   https.features.BACKEND.cN  tests/apps/test_https.py: mutual TLS seen by a handler (HTTP/1.1 and
#                              HTTP/2), session resumption through sea's HTTP client, and sea-httpd's
#                              SIGHUP certificate reload under load (h2load and new connections)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  add_executable(http_helper ${PROJECT_SOURCE_DIR}/tests/programs/http_helper.c)
  target_link_libraries(http_helper PRIVATE sea)
  sea_user_code(http_helper)
  set_target_properties(http_helper PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  set(certs ${PROJECT_SOURCE_DIR}/tests/support/tls_certs.sh)
  foreach(cfg "io_uring;1" "epoll;2")
    list(GET cfg 0 b)
    list(GET cfg 1 c)
    # NAME|TIMEOUT|SCRIPT|its arguments before the sea options
    set(kinds
        "httpd|300|test_httpd.py|$<TARGET_FILE:http_helper>|$<TARGET_FILE:sea-httpd>"
        "http2|600|test_http2.py|$<TARGET_FILE:http_helper>|$<TARGET_FILE:sea-httpd>|${certs}"
        "https|600|test_https.py|$<TARGET_FILE:http_helper>|$<TARGET_FILE:sea-httpd>|$<TARGET_FILE:http_get_helper>|${certs}")
    foreach(kind IN LISTS kinds)
      string(REPLACE "|" ";" kind "${kind}")
      list(POP_FRONT kind name timeout script)
      set(t ${name}.features.${b}.c${c})
      add_test(NAME ${t} COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/apps/${script} ${kind}
                                 --reactor-backend=${b} -c${c})
      set_tests_properties(${t} PROPERTIES TIMEOUT ${timeout} ENVIRONMENT SEA_HTTP_GET=$<TARGET_FILE:http_get_helper>)
      if(NOT c EQUAL 1)
        set_tests_properties(${t} PROPERTIES LABELS smp)
      endif()
    endforeach()
  endforeach()
endif()
