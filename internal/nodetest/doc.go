// Package nodetest lets Go tests run scripts under Node with the official
// @microsoft/signalr client installed from interop/package-lock.json.
package nodetest
