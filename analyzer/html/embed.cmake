# Writes OUT, a C file defining the page's style sheet and script as NUL-terminated char
# arrays rs_html_css and rs_html_js (the HTML report inlines them; keeping them as real
# files keeps them readable):
#   cmake -DOUT=html_assets.c -DCSS=report.css -DJS=report.js -P embed.cmake
set(code "/* Generated from analyzer/html/ by embed.cmake: do not edit. */\n")
foreach(pair "rs_html_css=${CSS}" "rs_html_js=${JS}")
  string(FIND "${pair}" "=" eq)
  string(SUBSTRING "${pair}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${pair}" ${from} -1 file)
  file(READ "${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 row)
  string(REGEX REPLACE "(${row})" "\\1\n  " hex "${hex}")
  string(APPEND code "const char ${name}[] = {\n  ${hex}0x00};\n")
endforeach()
file(WRITE "${OUT}.tmp" "${code}")
file(RENAME "${OUT}.tmp" "${OUT}")
