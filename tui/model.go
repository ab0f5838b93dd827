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
	// URL is the function app (or service) URL shown in the status line.
	URL string
	// Hub is the default hub for sends and new connections. Default "chat".
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
}

// focusArea is what receives the keys.
type focusArea int

const (
	focusStream focusArea = iota
	focusSidebar
	focusBody
	focusTo
	focusTarget
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
)

// Model is the one Bubble Tea model of the screen. Panels are plain methods
// that render from its state; only Update changes it.
type Model struct {
	cfg    Config
	keys   KeyMap
	styles *Styles
	mono   bool // the terminal shows no colours
	help   help.Model

	width, height int
	now           time.Time
	focus         focusArea
	overlay       overlay

	// connections, in the order they were first seen
	conns    []*conn
	connIdx  map[string]int
	selConn  int
	groups   map[string]*group
	groupOrd []string

	// traffic
	history    *ring
	targets    map[string]*targetStat
	targetOrd  []*targetStat
	total      rate
	totalCount int
	dropped    int
	deliveries []delivery // ring of maxDeliveries
	delStart   int
	nextDel    uint64

	// stream position; seqs, so that eviction never moves the selection
	cursor    uint64
	topSeq    uint64
	follow    bool
	paused    bool
	pauseNext uint64 // ring.next when paused: the stream shows seqs below it

	// filter
	filtering bool
	filterIn  textinput.Model
	query     query
	matches   []uint64 // seqs matching query, ascending; only when query is set

	// composer
	to, target, body textinput.Model

	form         *form
	detailScroll int
	errSeen      map[int]string // error text dismissed per connection
	flash        string
	flashErr     bool
	flashUntil   time.Time

	// quitting is closed when Update returns tea.Quit, so the clock's
	// pending timer ends with the program instead of a second later.
	quitting chan struct{}
}

// conn is what the screen knows about one connection.
type conn struct {
	label        string
	hub          string
	user         string // asked for
	tokenUser    string // from the token's claims
	state        ConnState
	transport    string
	connectionID string
	attempt      int
	retryAt      time.Time
	err          string
	token        string
	claims       map[string]any
	// resumes counts stateful-reconnect resumes (same connection, nothing
	// lost); reconnects counts full reconnects, each a new connection id.
	resumes    int
	reconnects int
}

// who is the user id to show: the token's, else the one asked for.
func (c *conn) who() string {
	if c.tokenUser != "" {
		return c.tokenUser
	}
	if c.user != "" {
		return c.user
	}
	return "anon"
}

// group is a group joined through sigr, with the members sigr knows of.
type group struct {
	name    string
	hub     string
	members []string
	exists  string // "", "yes", "no": the REST existence check
}

// New returns the screen for cfg.
func New(cfg Config) *Model {
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.Hub == "" {
		cfg.Hub = "chat"
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
	m := &Model{
		cfg:      cfg,
		keys:     DefaultKeyMap(),
		styles:   DefaultStyles(!cfg.Light),
		help:     help.New(),
		now:      cfg.Now(),
		connIdx:  map[string]int{},
		groups:   map[string]*group{},
		history:  newRing(cfg.History),
		targets:  map[string]*targetStat{},
		follow:   true,
		errSeen:  map[int]string{},
		quitting: make(chan struct{}),
	}
	m.filterIn = m.newInput("filter: target:, conn:, user: or text", "/ ")
	m.to = m.newInput("all", "")
	m.target = m.newInput(cfg.ChatTarget, "")
	m.body = m.newInput("message, or a JSON array of arguments", "")
	m.applyStyles()
	if cfg.Notice != "" {
		m.flash = sanitize(cfg.Notice)
		m.flashUntil = m.now.Add(15 * time.Second)
	}
	return m
}

func (m *Model) newInput(placeholder, prompt string) textinput.Model {
	in := textinput.New()
	in.Placeholder = placeholder
	in.Prompt = prompt
	in.CharLimit = 4096
	return in
}

// applyStyles pushes the palette into the bubbles it uses.
func (m *Model) applyStyles() {
	m.help.Styles = m.styles.Help
	for _, in := range []*textinput.Model{&m.filterIn, &m.to, &m.target, &m.body} {
		in.SetStyles(m.styles.Input)
	}
	if m.form != nil {
		for i := range m.form.inputs {
			m.form.inputs[i].SetStyles(m.styles.Input)
		}
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
	return tea.Batch(cmds...)
}
