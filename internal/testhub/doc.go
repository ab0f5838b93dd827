// Package testhub is a small SignalR hub server that behaves as a plain
// ASP.NET Core hub does (no Azure SignalR Service, no function app), for
// the tests of `sigr invoke` and of the screen's hub invocations, and for
// trying them by hand (cmd/testhub). It speaks negotiate version 1,
// WebSockets and Server-Sent Events, and the JSON hub protocol with its
// handshake, pings and Close; the methods it offers are listed on Methods.
//
// It answers with ASP.NET Core's texts where the client sees them: a
// method that throws a HubException, an unknown method, the wrong number
// of arguments, a streaming method invoked without streaming and the
// reverse. Its negotiate never redirects: it is the hub, so clients name
// no hub and get no access token.
package testhub
