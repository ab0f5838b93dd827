package protocol

import "testing"

func TestIsHTMLPage(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		body string
		want bool
	}{
		{"text/html; charset=utf-8", "<!DOCTYPE html>", true},
		{"TEXT/HTML", "", true},
		{"", "\n  <html><body>Sign in</body></html>", true},
		{"application/octet-stream", "<html>", true},
		{"application/json", `{"url":"x"}`, false},
		{"", "", false},
		{"text/plain", "Accepted", false},
		{"application/json; charset=utf-8", `"<b>"`, false},
	} {
		if got := IsHTMLPage(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("IsHTMLPage(%q, %q) = %v", tc.ct, tc.body, got)
		}
	}
}
