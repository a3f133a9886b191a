package main

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Valid UTF-8 is kept; each
// byte that is not part of valid UTF-8 becomes \u00XX, its Latin-1 reading
// (SEARCH-API), so the output is valid UTF-8 whatever the file names hold.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, `\"`...)
			case '\\':
				b = append(b, `\\`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendResult appends one "match" or "name" line.
func appendResult(b []byte, r *result) []byte {
	if r.line == 0 {
		b = append(b, `{"type":"name","path":`...)
		b = appendJSONString(b, r.path)
		return append(b, "}\n"...)
	}
	b = append(b, `{"type":"match","path":`...)
	b = appendJSONString(b, r.path)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(r.line), 10)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, r.text)
	return append(b, "}\n"...)
}
