package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Config is what the screen needs from the command that starts it.
type Config struct {
	// Context bounds the sends, group actions and new connections started
	// from the screen. Default context.Background().
	Context context.Context
	// Session owns the connections; nil disables `n`.
	Session Session
	// Sender posts messages and group actions; nil disables sending.
	Sender Sender
	// Feed delivers the session's events in batches; nil shows no traffic.
	Feed *Feed
	// URL is the function app (or service, or hub) URL shown in the
	// status line.
	URL string
	// Hub is the hub named on the command line, for sends and new
	// connections. Default: none, which leaves it to the function app (its
	// default, chat) and is what a plain hub, whose URL is the hub, needs.
	Hub string
	// History is how many messages the stream keeps. Default 50 000.
	History int
	// ChatTarget is the target whose plain-text sends go out as the chat
	// sample body. Default "newMessage".
	ChatTarget string
	// Now returns the current time; tests fix it. Default time.Now.
	Now func() time.Time
	// Location is the time zone of the stream's clock. Default time.Local.
	Location *time.Location
	// Notice is shown on the hint line for the first seconds, e.g. how
	// to send into a demo from another terminal. Default: none.
	Notice string
	// Light picks the light palette until the terminal reports its
	// background. Default false (dark).
	Light bool
	// Groups are memberships made before the screen starts (the demo puts
	// bob in devs), so that the Groups section shows them and routes to
	// them are recognised. Default: none.
	Groups []GroupMember
	// As is who the composer sends as at first: the chat body's sender,
	// and the identity whose connection invocations go over. The composer
	// changes it; the sidebar's selection never does. Default
	// DefaultSender.
	As string
	// AccessKey is the service's access key, when known (the demo, a
	// connection string, --access-key): the token inspector checks
	// signatures with it. Default: the key the Service's view was found
	// with, if any; else none, and the inspector says so.
	AccessKey string
	// Service follows the service's own view (sigr's emulator's live state
	// and trace) for the sidebar and the trace pane; the caller stops it.
	// Default nil: the sidebar shows what this screen did, and says so.
	Service *ServiceView
	// Initial is how many connections the command opened. Quitting with
	// more (opened here with n) asks first, since they are gone for good.
	// Default 0: never asks.
	Initial int
	// SaveDir is where w writes. Default "": the working directory.
	SaveDir string
	// Replay, when set, is a saved stream to show instead of a live
	// session: the screen is read-only, every view works, and the
	// composer is disabled. Default nil.
	Replay *Replay
}

// Replay is a saved stream, as ReadEventLines reads it.
type Replay struct {
	Name   string // the file, for the note that says what is shown
	Conns  []ConnSpec
	Events []Event
}

// DefaultSender is the name sigr sends chat messages as when no user is
// given, in the TUI and in `sigr send --text`: the name the screen gives
// an anonymous connection.
const DefaultSender = "anon"

// GroupMember is one member of one group: a user id, a connection id or a
// connection's label.
type GroupMember struct {
	Hub, Group, Member string
}

// common is what the parts of the screen draw with. The Model owns it and
// each part keeps a pointer, so a new palette reaches them all at once.
type common struct {
	styles *Styles
	loc    *time.Location
}

// focusArea is what receives the keys. Tab walks them in this order: the
// composer's inputs as they appear on its line, left to right, the message
// last, and then out of the composer.
type focusArea int

const (
	focusStream focusArea = iota
	focusSidebar
	focusAs
	focusTo
	focusTarget
	focusBody
	focusCount
)

// overlay is what the main area shows instead of the stream.
type overlay int

const (
	overlayNone overlay = iota
	overlayDetail
	overlayMatrix
	overlayHelp
	overlayToken
	overlayForm
	overlaySent
	overlayTrace
)

// mainView is what the main area shows under the overlays: the stream of
// every record received, or the chat.
type mainView int

const (
	viewStream mainView = iota
	viewChat
)

// Model is the one Bubble Tea model of the screen. It routes messages to
// its parts, plain structs that keep their own state and render themselves:
// the roster of connections and groups, the routing of deliveries, the
// traffic statistics, the stream and the composer. Only Update changes
// them.
type Model struct {
	cfg  Config
	keys KeyMap
	com  *common
	mono bool // the terminal shows no colours
	help help.Model
	// helpMemo is the `?` page as last drawn.
	helpMemo helpMemo

	width, height int
	now           time.Time
	focus         focusArea
	overlay       overlay
	view          mainView

	roster   *roster
	routing  *routing
	stats    *stats
	stream   *stream
	composer composer
	calls    *invocations
	chat     *chatLog
	sent     *sentLog
	trace    *traceLog

	filtering    bool
	confirming   bool // asking whether to quit
	viewChosen   bool // m chose per message or per receipt: no default since
	filter       textinput.Model
	form         *form
	detail       detailTarget
	detailScroll int
	flash        flash

	// quitting is closed when Update returns tea.Quit, so the clock's
	// pending timer ends with the program instead of a second later.
	quitting chan struct{}
}

// flash is a short message on the hint line.
type flash struct {
	text  string
	err   bool
	until time.Time
}

// New returns the screen for cfg.
func New(cfg Config) *Model {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.ChatTarget == "" {
		cfg.ChatTarget = "newMessage"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.As == "" {
		cfg.As = DefaultSender
	}
	com := &common{styles: DefaultStyles(!cfg.Light), loc: cfg.Location}
	r := newRoster(com, cfg.Hub, cfg.Groups)
	r.key = cfg.AccessKey
	rt := newRouting(com, r, cfg.ChatTarget)
	calls := newInvocations()
	sent := newSentLog(com)
	m := &Model{
		cfg:      cfg,
		keys:     DefaultKeyMap(),
		com:      com,
		help:     help.New(),
		now:      cfg.Now(),
		roster:   r,
		routing:  rt,
		stats:    newStats(com),
		stream:   newStream(com, r, rt, calls, cfg.History),
		composer: newComposer(com, cfg.ChatTarget, cfg.As),
		calls:    calls,
		chat:     newChatLog(com, r, rt, sent),
		sent:     sent,
		trace:    newTraceLog(com, r),
		filter:   newInput("filter: text, target: route: conn: user:, !not, a | b", "/ "),
		quitting: make(chan struct{}),
	}
	m.applyStyles()
	if cfg.Replay != nil {
		m.ingest(Batch{Opened: cfg.Replay.Conns, Events: cfg.Replay.Events})
	}
	if cfg.Notice != "" {
		m.flash = flash{text: sanitize(cfg.Notice), until: m.now.Add(15 * time.Second)}
	}
	return m
}

// applyStyles pushes the palette into the bubbles it uses.
func (m *Model) applyStyles() {
	s := m.com.styles
	m.help.Styles = s.Help
	m.filter.SetStyles(s.Input)
	m.composer.setStyles(s.Input)
	if m.form != nil {
		m.form.setStyles(s.Input)
	}
}

// tickMsg drives the clock: rates, countdowns and flash messages.
type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	quitting := m.quitting
	return func() tea.Msg {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case now := <-t.C:
			return tickMsg(now)
		case <-quitting:
			return nil
		}
	}
}

// quit ends the program. The command that started it closes the
// connections once Run returns; nothing here does I/O.
func (m *Model) quit() tea.Cmd {
	select {
	case <-m.quitting:
	default:
		close(m.quitting)
	}
	return tea.Quit
}

// Init asks for the background colour and starts the clock and the feed.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, m.tick()}
	if m.cfg.Feed != nil {
		cmds = append(cmds, m.cfg.Feed.Next())
	}
	if m.cfg.Service != nil {
		cmds = append(cmds, m.cfg.Service.Next())
	}
	return tea.Batch(cmds...)
}
