// Package textsafe makes what sigr prints safe to print. Untrusted text
// (server error bodies, close reasons, user ids, group names, token
// claims) comes out on one line with every control and reordering
// character made visible: Line and Clip, which errors, logs, command
// output and the TUI's screen all use. Secrets come out redacted:
// RedactURL and RedactToken, and WithoutURL for errors that would repeat
// a URL's query.
package textsafe
