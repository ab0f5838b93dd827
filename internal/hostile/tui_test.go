package hostile

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/tui"
)

// sgr is the only escape sequence the screen itself may emit: colours.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// evil holds the sequences a hostile peer would use: clear screen, set
// the window title, write the clipboard (OSC 52), bell, C1 CSI, bidi
// override, NUL.
const evil = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u009b6n\u202Eevil\x00"

func key(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

// streamCount reads the message count from the stream's header.
func streamCount(view string) int {
	m := streamHeader.FindStringSubmatch(sgr.ReplaceAllString(view, ""))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

var streamHeader = regexp.MustCompile(`STREAM (\d+) msgs`)

// tuiRows put escape sequences into every field the screen shows, through
// the real path: emulator, client, tui.ClientSession, Feed, Model.
func tuiRows() []row {
	return []row{
		{area: "TUI", input: "escape sequences in the user id, group name, target, arguments, route header and token claims, sent through the emulator to the screen",
			outcome: "every view (stream, chat, details, routing matrix, sent log, token inspector, the service's live state and trace, help) shows them as visible text; only the screen's own colour codes reach the terminal",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				user := "mallory" + evil
				sess := tui.NewClientSession(client.Options{Access: access(t, st), Reconnect: client.NoReconnect, HTTPClient: httpc(t)})
				defer sess.Close()
				feed := tui.NewFeed(sess.Conns(), time.Millisecond, 0)
				defer feed.Stop()
				group := "room" + evil
				cs, err := protocol.ParseConnectionString(st.ConnectionString)
				if err != nil {
					t.Fatal(err)
				}
				view := tui.NewServiceView(ctxFor(t, 20*time.Second), func(context.Context) (tui.ServiceFound, error) {
					ins := &tui.ClientInspector{Inspect: manage.Inspect{Endpoint: st.ServiceURL, AccessKey: cs.AccessKey, HTTPClient: httpc(t)}}
					return tui.ServiceFound{Inspector: ins, From: "key" + evil, AccessKey: cs.AccessKey}, nil
				}, 50*time.Millisecond)
				defer view.Stop()
				m := tui.New(tui.Config{Feed: feed, Service: view, URL: st.FunctionsURL + evil, Hub: "chat", Now: time.Now, Location: time.UTC,
					Groups: []tui.GroupMember{{Hub: "chat", Group: group, Member: user}}, As: user})
				m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
				if err := sess.Open(ctxFor(t, 10*time.Second), tui.ConnSpec{Hub: "chat", User: user}); err != nil {
					t.Fatal(err)
				}
				rest, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: httpc(t)})
				if err != nil {
					t.Fatal(err)
				}
				args, _ := json.Marshal([]any{evil, map[string]string{"k" + evil: evil}})
				chat, _ := json.Marshal([]map[string]string{{"sender": evil, "text": evil}})
				deadline := time.Now().Add(10 * time.Second)
				got := 0
				for got < 3 && time.Now().Before(deadline) {
					// Join and send until both messages reach the screen (the
					// connection may still be connecting on the first tries).
					ctx := ctxFor(t, 5*time.Second)
					_ = rest.AddUserToGroup(ctx, "chat", group, user, 0)
					_ = rest.SendToGroup(ctx, "chat", group, "target"+evil, args)
					_ = rest.SendToUser(ctx, "chat", user, "t2"+evil, args)
					_ = rest.SendToUser(ctx, "chat", user, "newMessage", chat)
					msg := feed.Next()()
					if msg == nil {
						break
					}
					m.Update(msg)
					got = streamCount(m.View().Content)
				}
				if got < 3 {
					t.Fatalf("%d messages reached the screen, want 3", got)
				}
				// The service's view, with the hostile user, group and
				// targets in its state and trace.
				for live := false; !live && time.Now().Before(deadline); {
					msg := view.Next()()
					if msg == nil {
						break
					}
					m.Update(msg)
					live = strings.Contains(m.View().Content, "live")
				}
				m.Update(key("up"))
				for _, k := range []string{"", "enter", "r", "t", "?", "v", "s", "e"} {
					if k != "" {
						m.Update(key("esc"))
						m.Update(key(k))
					}
					out := sgr.ReplaceAllString(m.View().Content, "")
					for _, bad := range []string{"\x1b", "\x07", "\x00", "\u009b", "\u202E"} {
						if strings.Contains(out, bad) {
							t.Errorf("view after %q shows %q raw", k, bad)
						}
					}
					if k == "" && !strings.Contains(out, `\x1b`) {
						t.Errorf("the stream does not show the hostile text at all:\n%s", out)
					}
				}
			}},
	}
}
