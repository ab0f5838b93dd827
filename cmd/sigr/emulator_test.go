package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEmulatorCORSOptions checks where the function app's CORS settings
// come from: --cors allows credentials (named origins only; the function
// app never sends them with "*"), and a local.settings.json without
// Host.CORSCredentials means false, as in Functions Core Tools.
func TestEmulatorCORSOptions(t *testing.T) {
	dir := t.TempDir()
	settings := func(name, host string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"Values":{},"Host":`+host+`}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	absent := settings("absent.json", `{"CORS":"http://localhost:8080, *"}`)
	withCreds := settings("creds.json", `{"CORS":"http://localhost:8080","CORSCredentials":true}`)
	for _, c := range []struct {
		name        string
		args        []string
		origins     []string
		credentials bool
	}{
		{"no CORS", nil, nil, false},
		{"--cors a named origin", []string{"--cors", "http://localhost:3000"}, []string{"http://localhost:3000"}, true},
		{"--cors *", []string{"--cors", "*"}, []string{"*"}, true},
		{"settings without CORSCredentials", []string{"--settings", absent}, []string{"http://localhost:8080", "*"}, false},
		{"settings with CORSCredentials", []string{"--settings", withCreds}, []string{"http://localhost:8080"}, true},
		{"--cors wins over the settings", []string{"--settings", absent, "--cors", "http://a.test"}, []string{"http://a.test"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := newEmulatorCmd()
			var f emulatorFlags
			// The command's RunE holds its own flags; parse into ours.
			fl := cmd.Flags()
			if err := fl.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			f.cors, _ = fl.GetStringArray("cors")
			f.settings, _ = fl.GetString("settings")
			f.accessKey, _ = fl.GetString("access-key")
			opts, err := stackOptions(cmd, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(opts.CORSOrigins) != len(c.origins) || opts.CORSCredentials != c.credentials {
				t.Fatalf("origins %q credentials %t, want %q %t", opts.CORSOrigins, opts.CORSCredentials, c.origins, c.credentials)
			}
			for i := range c.origins {
				if opts.CORSOrigins[i] != c.origins[i] {
					t.Fatalf("origins %q, want %q", opts.CORSOrigins, c.origins)
				}
			}
		})
	}
}
