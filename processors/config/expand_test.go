package config_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/processors/config"
)

// An expansion error does not quote a value that may hold a password.
func TestExpandErrorsHideTheValue(t *testing.T) {
	for _, v := range []string{"http://user:s3cret${@registry:8081", "http://user:${s3cret@registry}:8081"} {
		_, err := config.Expand(v, func(string) string { return "" })
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Expand(%q) = %v, want an error without the password", v, err)
		}
	}
	if _, err := config.Expand("${1X}", func(string) string { return "" }); err == nil || err.Error() != `invalid environment variable name "1X"` {
		t.Errorf("Expand(${1X}) = %v", err)
	}
}
