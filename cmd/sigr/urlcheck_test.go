package main

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{
		"http://127.0.0.1:7071/api",
		"https://myapp.azurewebsites.net/api?code=KEY",
		" http://localhost:5000/chathub ",
		"HTTP://[::1]:7071/api",
	} {
		if err := checkURL(ok); err != nil {
			t.Errorf("checkURL(%q) = %v", ok, err)
		}
	}
	for _, tc := range []struct {
		in, want string
		bare     bool
	}{
		{"127.0.0.1:17071/api", `URL "127.0.0.1:17071/api" is missing its scheme (http:// or https://); did you mean http://127.0.0.1:17071/api?`, false},
		{"localhost:7071/api", "did you mean http://localhost:7071/api?", false},
		{"localhost", "did you mean http://localhost?", false},
		{"[::1]:7071/api", "did you mean http://[::1]:7071/api?", false},
		{"10.0.0.5/api", "did you mean http://10.0.0.5/api?", false},
		{"myapp.azurewebsites.net/api", "did you mean https://myapp.azurewebsites.net/api?", false},
		{"example.com:8080/hub", "did you mean http://example.com:8080/hub?", false},
		// The function key stays out of the message, the fixed URL included.
		{"myapp.azurewebsites.net/api?code=SECRET", `URL "myapp.azurewebsites.net/api?…" is missing its scheme (http:// or https://); did you mean https://myapp.azurewebsites.net/api?code=…?`, false},
		{"http:127.0.0.1:7071/api", "needs // after http:; did you mean http://127.0.0.1:7071/api?", false},
		{"https:/myapp.azurewebsites.net/api", "did you mean https://myapp.azurewebsites.net/api?", false},
		{"ws://127.0.0.1:5000/hub", "is a WebSocket URL; sigr negotiates over HTTP first, then upgrades; did you mean http://127.0.0.1:5000/hub?", false},
		{"wss://x.service.signalr.net/client/?hub=chat&access_token=SECRET", "did you mean https://x.service.signalr.net/client/?hub=chat&access_token=…?", false},
		{"ftp://x/api", `URL "ftp://x/api" must start with http:// or https://`, false},
		{"http:///api", "has no host", false},
		{"http://[::1/api", "does not parse: missing ']' in host", false},
		{"emultor", `"emultor" is not a URL: a URL starts with http:// or https://`, true},
		{"chat\x1b[2J", `"chat\x1b[2J" is not a URL`, true},
	} {
		err := checkURL(tc.in)
		var ue *urlError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || ue.bare != tc.bare {
			t.Errorf("checkURL(%q) = %v, want %q (bare %v)", tc.in, err, tc.want, tc.bare)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("checkURL(%q) shows a secret or an escape: %v", tc.in, err)
		}
		if exitCode(err) != exitUsage {
			t.Errorf("checkURL(%q): exit %d", tc.in, exitCode(err))
		}
	}
}
