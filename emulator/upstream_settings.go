package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// maxSettingsFile bounds what is read of a settings.json.
const maxSettingsFile = 1 << 20

// upstreamSettings is the part of the official emulator's settings.json
// that sigr reads. Names match without regard to case, as .NET's
// configuration binder does.
type upstreamSettings struct {
	UpstreamSettings *struct {
		Templates []struct {
			UpstreamTemplate
			Auth *struct {
				Type string `json:"Type"`
			} `json:"Auth"`
		} `json:"Templates"`
	} `json:"UpstreamSettings"`
}

// LoadUpstreamSettings reads the upstream templates of the official
// emulator's settings.json (`asrs-emulator upstream init` writes one):
//
//	{"UpstreamSettings":{"Templates":[{"UrlTemplate":"http://localhost:7071/runtime/webhooks/signalr",
//	  "HubPattern":"*","CategoryPattern":"*","EventPattern":"*"}]}}
//
// A template's Auth other than None is reported in the warnings: sigr
// sends no managed identity token. A file without templates gives none
// and no error.
func LoadUpstreamSettings(path string) (templates []UpstreamTemplate, warnings []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream settings: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSettingsFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("upstream settings: reading %s: %w", path, err)
	}
	if len(data) > maxSettingsFile {
		return nil, nil, fmt.Errorf("upstream settings: %s is larger than %d bytes", path, maxSettingsFile)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // .NET tools write a BOM
	var s upstreamSettings
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, nil, fmt.Errorf("upstream settings: %s is not a settings.json (%v); it needs {\"UpstreamSettings\":{\"Templates\":[{\"UrlTemplate\":...}]}}", path, err)
	}
	if s.UpstreamSettings == nil {
		return nil, nil, fmt.Errorf("upstream settings: %s has no UpstreamSettings section; it needs {\"UpstreamSettings\":{\"Templates\":[{\"UrlTemplate\":...}]}}", path)
	}
	for i, t := range s.UpstreamSettings.Templates {
		if err := t.Validate(); err != nil {
			return nil, nil, fmt.Errorf("upstream settings: %s, template %d: %w", path, i+1, err)
		}
		if t.Auth != nil && t.Auth.Type != "" && !strings.EqualFold(t.Auth.Type, "None") {
			warnings = append(warnings, fmt.Sprintf("template %d asks for Auth %q; sigr's emulator sends no token to the upstream", i+1, t.Auth.Type))
		}
		templates = append(templates, t.UpstreamTemplate)
	}
	return templates, warnings, nil
}

// fileStamp is what the watcher compares to notice a change without
// reading the file.
type fileStamp struct {
	exists bool
	mod    time.Time
	size   int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, mod: fi.ModTime(), size: fi.Size()}
}

// loadSettings (re)reads the settings file. A file that cannot be read or
// parsed leaves the templates in force as they were: an editor's half
// written file must not switch the upstream off.
func (u *upstream) loadSettings(first bool) {
	tpls, warns, err := LoadUpstreamSettings(u.settingsPath)
	if err != nil {
		if first {
			u.log.Error("upstream settings not loaded; fix the file, it is re-read when it changes", "err", err)
		} else {
			u.log.Warn("upstream settings not reloaded, keeping the templates in force", "err", err)
		}
		return
	}
	for _, w := range warns {
		u.log.Warn("upstream settings: "+w, "file", u.settingsPath)
	}
	u.file.Store(&tpls)
	names := make([]string, len(tpls))
	for i, t := range tpls {
		names[i] = t.String()
	}
	msg := "upstream settings reloaded"
	if first {
		msg = "upstream settings loaded"
	}
	if len(tpls) == 0 {
		u.log.Warn(msg+": no templates; client invocations are dropped", "file", u.settingsPath)
		return
	}
	u.log.Info(msg, "file", u.settingsPath, "templates", strings.Join(names, "; "))
}

// watchSettings re-reads the settings file when its size or modification
// time changes, checking every poll, until stop is closed. A stat per poll
// costs next to nothing and needs no platform file-notification API.
func (u *upstream) watchSettings(last fileStamp, poll time.Duration, stop <-chan struct{}) {
	defer u.bg.Done()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cur := stampOf(u.settingsPath)
		if cur == last {
			continue
		}
		last = cur
		if !cur.exists {
			u.log.Warn("upstream settings file is gone, keeping the templates in force", "file", u.settingsPath)
			continue
		}
		u.loadSettings(false)
	}
}
