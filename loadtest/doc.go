// Package loadtest is the engine of `sigr bench`: it opens many hub
// connections (one user each, optionally spread over groups), drives
// traffic at a set rate through the service REST API or the function app,
// and measures what arrives: connect times, delivery latency from a send
// timestamp carried in the payload, throughput, errors and lost messages.
//
// It uses package client for every connection, so it measures what a real
// sigr user gets, and keeps its own bookkeeping lock-free on the receive
// path (atomic counters and a shared log-linear histogram) so that the
// measuring does not become the bottleneck it is looking for.
package loadtest
