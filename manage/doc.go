// Package manage is the service's management side of a serverless SignalR
// app: what a function does, from outside any hub connection.
//
//   - Sender sends hub messages and group actions over HTTP, through the
//     function app's messages and groups functions (FunctionApp) or the
//     Azure SignalR Service data-plane REST API (RESTClient). A caller
//     chooses one when it starts; everything after sends through the
//     interface.
//   - MintClientAccess, ConnectionStringAccess and MintRESTToken mint the
//     tokens a connection string's AccessKey signs, as the Functions
//     bindings and the Management SDK do: a client's URL and token for a
//     hub, and one token per REST request.
//
// Package client holds the hub connection itself and imports nothing
// from here: a connection string reaches it as client.Options.Access.
// Nothing here names a command-line flag; sigr's commands add their own
// hints to these errors.
package manage
