// Package syncbuf holds a bytes.Buffer that is safe for concurrent use,
// for tests that read what a logger or a command wrote from several
// goroutines.
package syncbuf
