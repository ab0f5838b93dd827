// Command testhub runs sigr's plain test hub in the foreground, to try
// `sigr invoke` and the screen's hub invocations by hand against a server
// that behaves as an ASP.NET Core hub does:
//
//	go run ./internal/testhub/cmd/testhub -addr 127.0.0.1:5000
//	sigr invoke http://127.0.0.1:5000/hub --target echo hello
package main
