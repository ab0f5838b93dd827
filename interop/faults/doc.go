// Package faults holds sigr's fault-injection tests: a real TCP proxy
// (github.com/Shopify/toxiproxy/v2, used as a library, on loopback) sits
// between the client and the emulator's service, and each test injects
// one fault (latency, a bandwidth limit, resets, a timeout, a half-open
// connection, an emulator restart) and checks that the client recovers as
// its policy says, counting what arrived, what was lost and what arrived
// twice. The package has no code outside its tests.
package faults
