package redact_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://registry:8081", "http://registry:8081"},
		{"https://registry.example.com/sr/", "https://registry.example.com/sr/"},
		{"http://user:s3cret@registry:8081", "http://registry:8081"},
		{"https://user:s3cret@registry:8081/prefix/schemas/ids/7", "https://registry:8081/prefix/schemas/ids/7"},
		{"http://onlyuser@registry:8081", "http://registry:8081"},
		{"http://user:p%40ss@registry:8081", "http://registry:8081"},
		// An @ that is not userinfo stays.
		{"http://registry:8081/subjects/a@b/versions", "http://registry:8081/subjects/a@b/versions"},
		{"http://user:pw@registry:8081/subjects/a@b", "http://registry:8081/subjects/a@b"},
		// Unparsable or scheme-less input: still no secret.
		{"http://user:p#ss@registry:8081", "http://registry:8081"},
		{"http://us er:s3cret@registry:8081", "http://registry:8081"},
		{"user:s3cret@registry:8081", "registry:8081"},
		{"://user:s3cret@", "://"},
		{"%zz:s3cret@host", "host"},
		{"", ""},
		{"not a url", "not a url"},
	} {
		got := redact.URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "p%40ss") || strings.Contains(got, "p#ss") {
			t.Errorf("URL(%q) = %q still shows the password", tc.in, got)
		}
	}
}

func TestURLParams(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://registry:8081/?token=s3cret", "http://registry:8081/?token=REDACTED"},
		{"http://registry:8081/sr?x=1&access_token=s3cret&y=2", "http://registry:8081/sr?x=1&access_token=REDACTED&y=2"},
		{"http://registry:8081/?API_KEY=s3cret;sig=s3cret", "http://registry:8081/?API_KEY=REDACTED;sig=REDACTED"},
		{"http://registry:8081/?api%5Fkey=s3cret", "http://registry:8081/?api%5Fkey=REDACTED"},
		{"http://registry:8081/#access_token=s3cret&state=1", "http://registry:8081/#access_token=REDACTED&state=1"},
		{"http://registry:8081/?password=s3cret#frag", "http://registry:8081/?password=REDACTED#frag"},
		{"http://user:s3cret@registry:8081/?token=s3cret", "http://registry:8081/?token=REDACTED"},
		{"http://registry:8081/%zz?token=s3cret", "http://registry:8081/%zz?token=REDACTED"},
		// Parameters that hold no secret keep their values.
		{"http://registry:8081/compatibility/subjects/a/versions/latest?verbose=true", "http://registry:8081/compatibility/subjects/a/versions/latest?verbose=true"},
		{"http://registry:8081/?token", "http://registry:8081/?token"},
	} {
		got := redact.URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("URL(%q) = %q still shows the secret", tc.in, got)
		}
	}
}
