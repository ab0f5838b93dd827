// Package tui is sigr's terminal interface: a live monitor of SignalR
// traffic across several connections, a chat composer and a routing
// debugger, built on Bubble Tea v2.
//
// The package reaches the network only through two small interfaces,
// Session (the connections, which may also be an Invoker of hub methods
// over them) and Sender (HTTP sends and group actions), so the whole
// screen can be built and tested with fakes; ClientSession and
// ClientSender adapt packages client and manage to them.
//
// # From events to rows
//
//  1. Each connection a Session opens is announced on Session.Conns as a
//     Source: its identity and its own client.Event channel.
//  2. The Feed's one goroutine selects over every announced channel, pairs
//     each client.Event with its connection (Event) and hands the screen a
//     Batch at most once per frame (DefaultFrame), once per two during a
//     flood, and at most batchMax events at a time, so keys never wait
//     long behind one. If the screen falls a ring's worth behind, it drops
//     the oldest messages and counts them.
//  3. Update takes the batch as one message and re-arms Feed.Next. ingest
//     applies it: new connections and state changes go to the roster; each
//     message, or record that failed to parse, is counted by stats, joined
//     to a delivery by routing (the receipts of one message as sent, on
//     however many of our connections), and pushed into the stream's ring
//     (the bounded history, addressed by seq) and, when it matches the
//     filter, into the stream's matches. A delivery's first receipt that
//     is a chat message becomes a line of the chat, or marks the echo of
//     one sent from here; later receipts only mark it.
//  4. View draws only the visible rows: stream.fixScroll keeps the selected
//     seq among them, and stream.Render reads the rows from the first
//     visible seq, through the ring or the matches. A frame costs the rows
//     on screen, whatever the size of the history, and a row that was on
//     screen in the last frame is reused as it was drawn (rowCache). Bubble
//     Tea's renderer then diffs the frame with the last one and writes
//     only the cells that changed.
//
// # Parts
//
// Model is the only Bubble Tea model. It routes messages and keys (every
// key through KeyMap) to plain structs that keep their own state and render
// themselves: roster (connections and groups), routing (deliveries, route
// inference and the routing matrix), stats (counts and rates), stream (the
// history, selection, pause and filter), chatLog (the chat view), sentLog
// (every send, invoke and group action made here, with its outcome) and
// composer (the message inputs). Lists whose rows wrap share listNav for
// their selection and scroll. Update changes state and does no I/O: sends,
// group actions and new connections run in commands that report back with
// a message.
//
// # Outcomes
//
// A send is recorded in the sent log, and a chat message echoed in the
// chat, before it leaves; the Sender's answer (manage.Outcome) then says
// its status and, from sigr's emulator, to how many connections it went
// and why none (X-Sigr-Delivered, X-Sigr-Undelivered). Without those
// headers, a SendChecker (the REST API's existence checks) says whether
// anybody was there to get it. A send that reached nobody also becomes a
// row of the routing matrix, so that every send's fate is on screen.
//
// # Watching for hours
//
// A monitor keeps trying: ClientSession reconnects with MonitorReconnect
// (backing off to about 30 s, with jitter, and never giving up) and retries
// a first connect that fails; the status line counts down to each attempt.
// R reconnects the selected connection now, skipping the wait, and x
// closes it and opens it again, through the Session's Reconnector. Each
// return leaves a gap row in the stream: how long the connection was away
// and whether messages sent meanwhile were lost, or, after a stateful
// resume, that nothing was.
//
// # Per message, saved, replayed
//
// With several connections open, the stream shows one row per message (its
// first receipt, with the connections that received it) and TARGETS counts
// messages; m switches to a row per receipt. w saves what the stream keeps
// as event lines; ReadEventLines reads them (or `sigr watch` and `sigr
// decode` output) back, and Config.Replay shows them read-only.
//
// # The service's view
//
// A ServiceView follows what sigr's emulator itself sees, through an
// Inspector, on goroutines of its own: every hub's state (connections,
// users, groups) each second and after each change the trace reports, and
// the trace itself. The screen takes its batches as it takes the Feed's.
// With it, the sidebar, the token inspector and route inference read the
// service's membership instead of this screen's own bookkeeping, and the
// trace pane shows the service's events.
package tui
