package codecs

import (
	"errors"
	"strings"
)

// FieldPath splits an error of Coerce, CoerceStrict or an encoder into the
// path of the field it is about ("amount", "items[2].sku", "" for the value
// itself) and the problem at that field, so that a caller can report them
// apart (the HTTP publish gateway's JSON errors).
func FieldPath(err error) (path, problem string) {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return "", err.Error()
	}
	var b strings.Builder
	for i := len(fe.path) - 1; i >= 0; i-- {
		seg := fe.path[i]
		if b.Len() > 0 && seg != "" && seg[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String(), fe.err.Error()
}
