// Package emulator is sigr's local serverless stack: a stand-in for Azure
// SignalR Service in serverless mode (client negotiate, the three
// transports, hubs, users, groups, the data-plane REST API, the upstream
// that calls SignalRTrigger functions) and the small function app every
// serverless sample has (negotiate, messages, groups, and the bidirectional
// chat sample's hub at /runtime/webhooks/signalr). Both are real HTTP
// servers; the function app reaches the service only through the REST
// API, as a real function app does.
//
// The upstream works as the service's: each connection's connected and
// disconnected events and every client invocation are POSTed, with the
// X-ASRS-* headers and the signature, to the first UpstreamTemplate that
// matches; the answer to an invocation becomes the client's Completion
// (the framed body verbatim; "Invocation failed, status code <n>", "...
// response too large.", "... response cancelled.", "... error: <why>."
// otherwise). Each connection's calls are made in order by a worker of
// its own, so a slow function holds up only that connection.
//
// What a client gets for bad input (the table the tests check):
//
//	request / input                                  answer
//	token: bad signature, alg none or asymmetric,    401, WWW-Authenticate: Bearer error="invalid_token",
//	  expired, no exp, wrong aud, client token on REST   error_description="<why>"
//	token user differs from the negotiated one       403
//	v0 anonymous connection, another access token    403 (its id is its token, and ids are not secret)
//	useStatefulReconnect without negotiateVersion    not offered
//	connection past MaxIdleConns idle ones           503 with the reason, Connection: close (hub requests pass)
//	request body slower than ReadTimeout             cut; idle keep-alive closed after IdleTimeout
//	function app preflight from a foreign origin     no CORS headers; logged with the origin and the allowed list
//	negotiate: invalid hub / two hub parameters      400 Invalid value of 'hub'.
//	/client/ without id                              400 Connection ID required
//	/client/ unknown or expired id                   404 No Connection with that ID
//	second WebSocket or SSE stream                   409
//	second WebSocket of a stateful connection        resume: it replaces the first (Sequence, replay)
//	stateful socket dropped, no resume within grace  connection closed; a late resume gets 404
//	stateful client's Sequence ahead of its sends    Close {"error":"... Sequence ID greater than amount of messages we've received."}
//	stateful client that acks nothing                writer waits at StatefulReconnectBufferSize; queue full: Close with an error
//	POST while another POST runs                     409
//	POST to a WebSocket connection                   405
//	DELETE on a non long-polling connection          400
//	changing transports                              400 Cannot change transports mid-connection
//	malformed handshake / unknown protocol / version handshake {"error":"<.NET text>"}, then close
//	record over MaxMessageSize                       Close {"error":"Connection closed with an error. Message of more than N bytes ..."}
//	a record that is not a hub message               Close {"error":"Connection closed with an error. Invalid message: ..."}
//	a client that does not read (queue full)         Close with an error, transport dropped
//	a write that makes no progress for WriteTimeout  transport dropped (stateful: socket dropped, kept for a resume)
//
// Stateful reconnect (negotiate useStatefulReconnect=true, then handshake
// version 2 on a WebSocket) works as ASP.NET Core's: the service numbers
// the messages it sends, keeps the unacknowledged ones, acknowledges the
// client's every AckInterval, and keeps a connection whose socket dropped
// for StatefulReconnectGrace so that a new socket on the same id= resumes
// it. A resumed socket starts with Sequence, then replays in writes of at
// most 16 KiB. After the first write it waits (at most 2 s) for the
// client's Sequence, and what an Ack from the client covers goes as a
// 35-byte placeholder that keeps the ids in place: on a link that drops
// every few tens of kilobytes each resume still delivers something new.
//
// Each connection speaks the hub protocol its handshake names: JSON, or
// MessagePack (binary WebSocket messages and long-polling bodies; not on
// Server-Sent Events, which carry only text). A broadcast is encoded once
// per protocol, not per connection. A MessagePack client's invocation goes
// to the upstream as application/x-msgpack, its length-prefixed record as
// it came, and the answer is relayed as MessagePack; the built-in function
// app reads such bodies and answers in kind.
//
// Every delivered invocation carries the hub-protocol header `route`
// (`broadcast`, `user:<id>`, `group:<name>`, `connection:<id>`), which the
// real service does not send.
//
// Three more extensions answer "why didn't it arrive?" (docs/emulator.md
// has the reference): every REST send says to how many connections it was
// written and, for none, why (X-Sigr-Delivered, X-Sigr-Undelivered; group
// actions X-Sigr-Applied, X-Sigr-Unapplied); GET /_sigr/v1/hubs/{hub} is a
// hub's live state; GET /_sigr/v1/trace streams the service's events as
// Server-Sent Events. GET /_sigr/v1/process gives the process's CPU time,
// allocations and memory, for a load test to tell the emulator's cost from
// its own. The last three take REST API tokens.
package emulator
