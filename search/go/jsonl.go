package main

import (
	"encoding/base64"
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

// appendField appends "key":"value" and, when value is not all well-formed
// UTF-8, "key_bytes":"BASE64 of the raw bytes" (schema 2, as ripgrep's
// {"bytes":...}): the \u00XX reading of "key" alone would make x\xe9.txt
// and xé.txt the same name.
func appendField(b []byte, key, value string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b = appendJSONString(b, value)
	if !utf8.ValidString(value) {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `_bytes":"`...)
		b = append(b, base64.StdEncoding.EncodeToString([]byte(value))...)
		b = append(b, '"')
	}
	return b
}

// utf8Cut returns the length of s cut to at most max bytes, never inside a
// well-formed UTF-8 character (a stray byte stands alone), as the C
// service's json_utf8_cut.
func utf8Cut(s []byte, max int) int {
	if len(s) <= max {
		return len(s)
	}
	i := 0
	for i < max {
		_, k := utf8.DecodeRune(s[i:]) // 1 for a stray byte
		if i+k > max {
			break
		}
		i += k
	}
	return i
}

// appendResult appends one line of the stream (result.kind says which).
func appendResult(b []byte, r *result) []byte {
	switch r.kind {
	case kindName:
		b = append(b, `{"type":"name",`...)
		b = appendField(b, "path", r.path)
		return append(b, "}\n"...)
	case kindFileError:
		b = append(b, `{"type":"file_error",`...)
		b = appendField(b, "path", r.path)
		b = append(b, `,"error":`...)
		b = appendJSONString(b, r.text)
		return append(b, "}\n"...)
	case kindContext:
		b = append(b, `{"type":"context",`...)
	default:
		b = append(b, `{"type":"match",`...)
	}
	b = appendField(b, "path", r.path)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(r.line), 10)
	b = append(b, ',')
	b = appendField(b, "text", r.text)
	if r.kind == kindMatch {
		// The first match, as byte offsets in the whole line (it may lie past
		// the cut text); column is 1-based, as rg's and grep's.
		b = append(b, `,"column":`...)
		b = strconv.AppendInt(b, int64(r.ms+1), 10)
		b = append(b, `,"submatch":[`...)
		b = strconv.AppendInt(b, int64(r.ms), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(r.me), 10)
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}
